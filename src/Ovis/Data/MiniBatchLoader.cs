using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Data;

/// <summary>Everything needed to resume a <see cref="MiniBatchLoader"/> exactly where it stopped.</summary>
/// <param name="Epoch">epochs started so far.</param>
/// <param name="NextBatch">index of the next batch within the current epoch.</param>
/// <param name="Permutation">the current epoch's order of the images, or null before the first epoch.</param>
/// <param name="GeneratorState">the generator's state (<c>Generator.get_state()</c> as bytes).</param>
public sealed record LoaderState(int Epoch, int NextBatch, long[]? Permutation, byte[] GeneratorState);

/// <summary>
/// Mini-batches of a split, shuffled without replacement at every epoch (docs/experiments.md §1.3): an epoch visits
/// every image exactly once in a random order drawn from <see cref="Generator"/>; I = ceil(N / B) batches per
/// epoch, the last one smaller when B does not divide N. With <see cref="BinarizationMode.Dynamic"/> each batch is
/// binarised afresh from the same generator, so a resumed run (<see cref="SaveState"/>) repeats the exact draws.
/// </summary>
public sealed class MiniBatchLoader
{
    private readonly ImageSplit split;
    private readonly BinarizationMode binarization;
    private long[]? permutation;

    /// <summary>Create a loader.</summary>
    /// <param name="split">the images.</param>
    /// <param name="batchSize">B, images per batch.</param>
    /// <param name="binarization">how to binarise grey levels when drawing a batch (<see cref="BinarizationMode.Static"/>
    /// must be applied to the split beforehand with <see cref="ImageSplit.BinarizeStatically"/>).</param>
    /// <param name="generator">the generator for shuffling and dynamic binarisation.</param>
    public MiniBatchLoader(ImageSplit split, int batchSize, BinarizationMode binarization, Generator generator)
    {
        if (batchSize <= 0) throw new ArgumentException($"the batch size must be positive, got {batchSize}");
        if (binarization == BinarizationMode.Static && !split.IsBinary)
            throw new ArgumentException($"split '{split.Name}' holds grey levels: binarise it statically first (ImageSplit.BinarizeStatically), or use dynamic binarisation");
        this.split = split;
        this.binarization = split.IsBinary ? BinarizationMode.None : binarization;
        BatchSize = batchSize;
        Generator = generator;
    }

    /// <summary>The generator for shuffling and dynamic binarisation; its state is part of <see cref="SaveState"/>.</summary>
    public Generator Generator { get; }

    /// <summary>B.</summary>
    public int BatchSize { get; }

    /// <summary>I = ceil(N / B), batches per epoch.</summary>
    public int BatchesPerEpoch => (split.Count + BatchSize - 1) / BatchSize;

    /// <summary>Epochs started so far.</summary>
    public int Epoch { get; private set; }

    /// <summary>Index of the next batch within the current epoch.</summary>
    public int NextBatch { get; private set; }

    /// <summary>
    /// The next batch of binary images, float32 [B, D] (the last batch of an epoch may be smaller); starts a new
    /// epoch (new permutation) when the current one is exhausted. The tensor is created in the caller's dispose scope.
    /// </summary>
    public Tensor Next() => NextWithIndices().Images;

    /// <summary>Like <see cref="Next"/>, also returning the indices of the images in the split.</summary>
    public (Tensor Images, long[] Indices) NextWithIndices()
    {
        if (permutation is null || NextBatch >= BatchesPerEpoch) StartEpoch();
        int start = NextBatch * BatchSize;
        int count = Math.Min(BatchSize, split.Count - start);
        var indices = permutation!.AsSpan(start, count).ToArray();
        NextBatch++;
        return (Images(indices), indices);
    }

    /// <summary>All batches of one full epoch, in order (starts a fresh epoch first if one is under way).</summary>
    public IEnumerable<Tensor> EpochBatches()
    {
        if (permutation is not null && NextBatch > 0) StartEpoch();
        int batches = BatchesPerEpoch;
        for (int i = 0; i < batches; i++) yield return Next();
    }

    /// <summary>The images at <paramref name="indices"/>, binarised as configured, float32 [n, D].</summary>
    public Tensor Images(long[] indices)
    {
        using var scope = NewDisposeScope();
        var pixels = split.Pixels.index_select(0, tensor(indices));                          // [n, D] uint8
        var images = binarization switch
        {
            BinarizationMode.Dynamic => Binarization.Sample(pixels, Generator),
            BinarizationMode.Threshold => Binarization.Threshold(pixels),
            _ => pixels.to(ScalarType.Float32),
        };
        return images.MoveToOuterDisposeScope();
    }

    private void StartEpoch()
    {
        using var scope = NewDisposeScope();
        permutation = randperm(split.Count, generator: Generator).data<long>().ToArray();
        Epoch++;
        NextBatch = 0;
    }

    /// <summary>Capture the position, the current permutation and the generator state.</summary>
    public LoaderState SaveState()
    {
        using var scope = NewDisposeScope();
        var state = Generator.get_state().data<byte>().ToArray();
        return new LoaderState(Epoch, NextBatch, permutation?.ToArray(), state);
    }

    /// <summary>Restore a state captured by <see cref="SaveState"/> (on a loader over the same split).</summary>
    public void RestoreState(LoaderState state)
    {
        if (state.Permutation is not null && state.Permutation.Length != split.Count)
            throw new ArgumentException($"the saved loader state is for {state.Permutation.Length} images, this split has {split.Count}");
        using var scope = NewDisposeScope();
        Generator.set_state(tensor(state.GeneratorState));
        Epoch = state.Epoch;
        NextBatch = state.NextBatch;
        permutation = state.Permutation?.ToArray();
    }
}
