using Ovis.Models;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// <c>gmm</c>: the Gaussian mixture of paper Figure 2 (docs/experiments.md §2.2), 20 clusters, trained on an infinite
/// stream from the true mixture; its metrics are the distances of q and of the learned prior to the truth.
/// </summary>
public sealed class GaussianMixtureEntry : ModelEntry
{
    /// <inheritdoc />
    public override string Name => "gmm";

    /// <inheritdoc />
    public override string Description => "Gaussian mixture of paper Fig. 2 (20 clusters, x ~ N(10c, 5²)), infinite synthetic stream";

    /// <inheritdoc />
    public override bool CanReparameterize => false;

    /// <inheritdoc />
    public override TrainingConfiguration Defaults => base.Defaults with { EvaluationPointsPerPass = 100, FinalEvaluationParticles = 0 };

    /// <inheritdoc />
    public override IReadOnlyList<string> CurveMetrics => new[] { GaussianMixtureMetrics.PosteriorErrorKey, GaussianMixtureMetrics.PriorErrorKey };

    /// <inheritdoc />
    public override bool LogScaleCurve => true;

    /// <inheritdoc />
    public override string ReportMetrics => "gmm/posterior_error:min,gmm/prior_error:min,grads/snr:mean,test:loss/L_k:max";

    /// <inheritdoc />
    public override TrainingTask CreateTask(TrainingConfiguration configuration, Device device)
    {
        using var generator = InitializationGenerator(configuration.Seed);
        var model = new GaussianMixtureModel(generator: generator);
        model.to(device);
        return new TrainingTask(model, new GaussianMixtureData(model), new GaussianMixtureMetrics(model), Name);
    }

    /// <inheritdoc />
    public override BenchmarkModel CreateForBenchmark(ScalarType dtype, Device device, IReadOnlyList<int> layers)
    {
        var model = new GaussianMixtureModel(dtype: dtype);
        model.to(device);
        return new BenchmarkModel(model, (batch, generator) => model.SampleData(batch, generator).to(device));
    }

    /// <inheritdoc />
    /// <remarks>The one-hot latent and a few [C]-wide tensors (posterior logits, log-probabilities), C = 20.</remarks>
    protected override double BytesPerParticle(TrainingConfiguration configuration) => 20 * 4 * 8;

    /// <inheritdoc />
    /// <remarks>A few hundred parameters (the prior's 20 logits and q's small network): 1,000 counted.</remarks>
    protected override double ParameterBytes(TrainingConfiguration configuration) => 1_000 * 4 * 4;
}
