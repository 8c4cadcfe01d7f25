using Ovis.Estimators;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// The trainer's periodic φ-gradient analysis (docs/experiments.md §1.5 item 2, docs/estimators.md §7): N draws of
/// the training estimator's gradient at the current α on a fixed batch of held-out points, with a generator reset to
/// the same seed at every measurement.
/// </summary>
internal sealed class GradientProbe : IDisposable
{
    private readonly TrainingTask task;
    private readonly GradientEstimator estimator;
    private readonly TrainerSettings settings;
    private readonly Tensor batch;      // [B_grad, ...]

    /// <summary>Draw the fixed batch of the probe.</summary>
    public GradientProbe(TrainingTask task, GradientEstimator estimator, TrainerSettings settings)
    {
        this.task = task;
        this.estimator = estimator;
        this.settings = settings;
        using var generator = RandomStreams.Create(settings.Seed, RandomStreams.Gradient);
        batch = task.Data.HeldOutBatch(settings.GradientBatchSize, generator).DetachFromDisposeScope();
    }

    /// <summary>True when the record of <paramref name="step"/> carries gradient statistics.</summary>
    public bool IsDue(long step) => settings.GradientEvery > 0 && step % settings.GradientEvery == 0;

    /// <summary>The statistics of <see cref="GradientSignalToNoise"/> for the estimator at α.</summary>
    public IReadOnlyDictionary<string, double> Measure(double alpha)
    {
        using var generator = RandomStreams.Create(settings.Seed, RandomStreams.Gradient + 1);
        var estimatorSettings = settings.SettingsAt(alpha);
        var phi = task.Model.InferenceParameters();
        EstimatorContext Context() => new(estimatorSettings, task.Model, batch, generator, Diagnostics: false);
        if (settings.ParticleChunk == 0)
            return GradientSignalToNoise.Measure(() => estimator.Compute(Context()).Loss, phi, settings.GradientSamples, settings.GradientEpsilon);
        // In chunks, through the parameters' gradients; the next training step zeroes them again.
        return GradientSignalToNoise.Measure(() =>
        {
            foreach (var parameter in task.Model.AllParameters()) parameter.grad?.zero_();
            ChunkedGradient.Backward(estimator, Context(), settings.ParticleChunk);
            return phi.Select(p => p.grad?.clone()).ToArray();
        }, phi, settings.GradientSamples, settings.GradientEpsilon);
    }

    /// <inheritdoc />
    public void Dispose() => batch.Dispose();
}
