using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// Where a training run gets its data: the stream of training mini-batches, fixed held-out (test) points for
/// evaluation and gradient analysis and, for data with a training split of its own, a fixed subset of it. Whatever
/// position the stream keeps is written into the checkpoint (<see cref="SaveState"/>), so a resumed run sees exactly
/// the batches an uninterrupted run would.
/// </summary>
public interface ITrainingData
{
    /// <summary>The next training mini-batch x, [B, ...], drawing any randomness from <paramref name="generator"/> (the run's).</summary>
    Tensor NextBatch(int batchSize, Generator generator);

    /// <summary>
    /// <paramref name="size"/> held-out points, [N, ...], fixed by <paramref name="generator"/> (the trainer passes a
    /// generator seeded the same way at every call, so the points are the same at every evaluation).
    /// </summary>
    Tensor HeldOutBatch(int size, Generator generator);

    /// <summary>
    /// True when the training data are a finite split distinct from the held-out points, so that L_K on a fixed
    /// training subset is informative (the train L_5000 of paper Figure 3). Synthetic streams return false.
    /// </summary>
    bool HasTrainingSplit => false;

    /// <summary><paramref name="size"/> fixed points of the training split, [N, ...]; only called when <see cref="HasTrainingSplit"/>.</summary>
    Tensor TrainingSubset(int size, Generator generator)
        => throw new NotSupportedException("this data source has no training split distinct from its held-out points");

    /// <summary>Write the stream's position (nothing for a stateless stream).</summary>
    void SaveState(BinaryWriter writer) { }

    /// <summary>Restore the position written by <see cref="SaveState"/>.</summary>
    void LoadState(BinaryReader reader) { }
}

/// <summary>
/// Model-specific metrics written with every evaluation record, e.g. the GMM's distance to the true posterior
/// (docs/estimators.md §6). Keys are <c>family/name</c>.
/// </summary>
public interface ITrainingMetrics
{
    /// <summary>The metrics on the held-out batch <paramref name="heldOut"/> [N, ...], computed without gradient.</summary>
    IReadOnlyDictionary<string, double> Measure(Tensor heldOut);
}
