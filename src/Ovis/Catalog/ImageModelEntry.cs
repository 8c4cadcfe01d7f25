using Ovis.Data;
using Ovis.Estimators;
using Ovis.Models;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// A deep generative model of binary images (docs/experiments.md §2.3–2.5): trained on a data set's training split
/// with the paper's batch 24 and lr 3e−4, evaluated by L_1000 on fixed test points and on a fixed training subset,
/// and finally by L_5000.
/// </summary>
public abstract class ImageModelEntry : ModelEntry
{
    /// <inheritdoc />
    public override bool UsesDataset => true;

    /// <inheritdoc />
    public override TrainingConfiguration Defaults => base.Defaults with { BatchSize = 24, LearningRate = 3e-4, EvaluationParticles = 1000 };

    /// <inheritdoc />
    public override IReadOnlyList<string> CurveMetrics => new[] { "test:" + DiagnosticKeys.Bound, "train:" + DiagnosticKeys.Bound };

    /// <inheritdoc />
    public override string ReportMetrics => "final:test:loss/L_k:last,final:test:loss/L_k_stderr:last,test:loss/L_k:max,grads/snr:mean";

    /// <inheritdoc />
    public override void Validate(TrainingConfiguration configuration)
    {
        ImageDatasets.ParseBinarization(configuration.Binarization, ImageDatasets.Spec(configuration.Dataset));
        if (configuration.Layers.Any(l => l < 1)) throw new ArgumentException($"--layers must be positive sizes, got {string.Join(",", configuration.Layers)}");
        ValidateLayers(configuration.Layers);
    }

    /// <inheritdoc />
    public override long ReferenceSteps(long nsteps, TrainingConfiguration configuration)
    {
        if (nsteps < 0) throw new ArgumentException($"--nsteps must be 0 or positive, got {nsteps}");
        long perEpoch = (ImageDatasets.TrainingCount(ImageDatasets.Spec(configuration.Dataset)) + (long)configuration.BatchSize - 1) / configuration.BatchSize;
        return (1 + nsteps / perEpoch) * perEpoch;
    }

    /// <inheritdoc />
    public override void CheckAvailable(TrainingConfiguration configuration)
        => new DataLocator(configuration.DataDirectory).Locate(ImageDatasets.Spec(configuration.Dataset));

    /// <summary>Check the model's reading of <c>--layers</c> (empty: its default).</summary>
    protected abstract void ValidateLayers(IReadOnlyList<int> layers);

    /// <summary>Build the model for images of <paramref name="pixels"/> pixels; <paramref name="dataset"/> gives data-dependent initialisations.</summary>
    protected abstract LatentVariableModel Build(TrainingConfiguration configuration, Dataset dataset, int pixels);

    /// <inheritdoc />
    public override TrainingTask CreateTask(TrainingConfiguration configuration, Device device)
    {
        var dataset = ImageDatasets.Load(configuration);
        // nn.Linear's default initialisation draws from torch's global generator: seed it so a run is reproducible.
        manual_seed(unchecked((long)configuration.Seed));
        var model = Build(configuration, dataset, dataset.Train.PixelCount);
        model.to(device);
        return new TrainingTask(model, new ImageTrainingData(dataset, configuration.BatchSize, configuration.Seed, device), name: Name);
    }

    /// <inheritdoc />
    public override BenchmarkModel CreateForBenchmark(ScalarType dtype, Device device, IReadOnlyList<int> layers)
    {
        ValidateLayers(layers);
        var model = BuildForBenchmark(dtype, layers);
        model.to(device);
        return new BenchmarkModel(model, (batch, generator) =>
            bernoulli(full(new long[] { batch, Pixels }, 0.3, dtype: dtype), generator: generator).to(device));
    }

    /// <summary>Pixels of the benchmark's synthetic images (28 × 28).</summary>
    protected const int Pixels = 784;

    /// <summary>Build the model with its default initialisation, for benchmarks.</summary>
    protected abstract LatentVariableModel BuildForBenchmark(ScalarType dtype, IReadOnlyList<int> layers);
}
