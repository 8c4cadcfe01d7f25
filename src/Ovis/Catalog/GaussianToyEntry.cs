using Ovis.Models;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// <c>gaussian-toy</c>: the Gaussian toy of the asymptotic study (docs/experiments.md §2.1, §2.8), D = 20, trained on
/// its fixed set of 1,024 points; its metrics are the distances of θ and φ to the known optimum.
/// </summary>
public sealed class GaussianToyEntry : ModelEntry
{
    /// <summary>D, the dimension of x and z.</summary>
    public const int Dimension = 20;

    /// <summary>Points of the fixed data set.</summary>
    public const int Points = 1024;

    /// <inheritdoc />
    public override string Name => "gaussian-toy";

    /// <inheritdoc />
    public override string Description => "Gaussian toy of the asymptotic study (D = 20, 1,024 fixed points, known optimum)";

    /// <inheritdoc />
    public override bool CanReparameterize => true;

    /// <inheritdoc />
    public override TrainingConfiguration Defaults => base.Defaults with { EvaluationPointsPerPass = 100, FinalEvaluationParticles = 0 };

    /// <inheritdoc />
    public override IReadOnlyList<string> CurveMetrics => new[] { GaussianToyData.PhiErrorKey, GaussianToyData.MuErrorKey };

    /// <inheritdoc />
    public override bool LogScaleCurve => true;

    /// <inheritdoc />
    public override string ReportMetrics => "gaussian_toy/mse_phi:min,gaussian_toy/mse_mu:min,grads/snr:mean,test:loss/L_k:max";

    /// <inheritdoc />
    public override TrainingTask CreateTask(TrainingConfiguration configuration, Device device)
    {
        using var generator = InitializationGenerator(configuration.Seed);
        var model = new GaussianToyModel(Dimension, generator: generator);
        model.to(device);
        var (points, _) = GaussianToyModel.GenerateData(Dimension, Points);
        var data = new GaussianToyData(model, points.to(device));
        return new TrainingTask(model, data, data, Name);
    }

    /// <inheritdoc />
    public override BenchmarkModel CreateForBenchmark(ScalarType dtype, Device device, IReadOnlyList<int> layers)
    {
        var model = new GaussianToyModel(Dimension, dtype: dtype);
        var (data, _) = GaussianToyModel.GenerateData(Dimension, Points, 42, dtype);
        model.SetOptimum(data);
        model.to(device);
        var onDevice = data.to(device);
        return new BenchmarkModel(model, (batch, generator) => onDevice[randint(0, onDevice.shape[0], new long[] { batch }, generator: generator).to(device)]);
    }

    /// <inheritdoc />
    /// <remarks>z, ε and a handful of [D]-wide intermediates with their gradients.</remarks>
    protected override double BytesPerParticle(TrainingConfiguration configuration) => Dimension * 4 * 12;

    /// <inheritdoc />
    protected override double ParameterBytes(TrainingConfiguration configuration) => (Dimension * Dimension + 2.0 * Dimension) * 4 * 4;
}
