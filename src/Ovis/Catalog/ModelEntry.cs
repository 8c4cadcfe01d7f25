using Ovis.Models;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>A catalog model with a synthetic data source of the right shape, for benchmarks and smoke runs.</summary>
/// <param name="Model">the model.</param>
/// <param name="SampleBatch">draws a batch of B data points, [B, ...], from a generator.</param>
public sealed record BenchmarkModel(LatentVariableModel Model, Func<int, Generator, Tensor> SampleBatch);

/// <summary>
/// One model the command line knows by name (<c>--model NAME</c>): everything about it that the trainer, the
/// benchmark, the experiment runner and the command line need, so that nothing else switches on model names. A
/// library user does not need an entry: they pass their model and data to <see cref="Trainer"/> directly; an entry
/// is what makes a model available to <c>ovis train</c> and to experiment grids (<see cref="ModelCatalog.Register"/>).
/// </summary>
public abstract class ModelEntry
{
    /// <summary>The name used on the command line and in experiment grids.</summary>
    public abstract string Name { get; }

    /// <summary>One line on what the model is (listed by <c>ovis train --help</c>).</summary>
    public abstract string Description { get; }

    /// <summary>True when the model's latents can be reparameterised (pathwise estimators), known without building it.</summary>
    public abstract bool CanReparameterize { get; }

    /// <summary>True when the model trains on an image data set (it reads --dataset, --binarization and --data-dir).</summary>
    public virtual bool UsesDataset => false;

    /// <summary>
    /// The model's default run: the settings <c>ovis train --model NAME</c> uses for every option not given (e.g. the
    /// paper's batch 24 and lr 3e−4 for the deep models).
    /// </summary>
    public virtual TrainingConfiguration Defaults => new() { Model = Name };

    /// <summary>The metrics drawn in a run's training-curve figure.</summary>
    public virtual IReadOnlyList<string> CurveMetrics => new[] { "test:" + Estimators.DiagnosticKeys.Bound };

    /// <summary>True when the training curve reads best on a log y-axis (errors that fall by orders of magnitude).</summary>
    public virtual bool LogScaleCurve => false;

    /// <summary>The metrics an experiment report shows by default for grids of this model (<c>name[:reduction]</c>, comma-separated).</summary>
    public virtual string ReportMetrics => "test:loss/L_k:max,grads/snr:mean";

    /// <summary>
    /// Check the model's own options in <paramref name="configuration"/> (layer sizes, data set names), without
    /// loading or building anything; throws <see cref="ArgumentException"/> with a message naming the option.
    /// </summary>
    public virtual void Validate(TrainingConfiguration configuration)
    {
        if (configuration.Layers.Length > 0)
            throw new ArgumentException($"model '{Name}' takes no --layers, got {string.Join(",", configuration.Layers)}");
    }

    /// <summary>
    /// Check that what a run of <paramref name="configuration"/> needs from outside exists (e.g. the data set's files),
    /// without loading it; throws with a message saying what is missing and how to get it.
    /// </summary>
    public virtual void CheckAvailable(TrainingConfiguration configuration) { }

    /// <summary>
    /// Build the model, initialised from the run's seed, and its data for a run of <paramref name="configuration"/>
    /// on <paramref name="device"/>.
    /// </summary>
    public abstract TrainingTask CreateTask(TrainingConfiguration configuration, Device device);

    /// <summary>Build the model with a synthetic data source, for benchmarks (<c>ovis bench</c>).</summary>
    /// <param name="dtype">the parameters' dtype.</param>
    /// <param name="device">where the model lives.</param>
    /// <param name="layers">layer sizes as <c>--layers</c> gives them (empty: the model's default).</param>
    public abstract BenchmarkModel CreateForBenchmark(ScalarType dtype, Device device, IReadOnlyList<int> layers);

    /// <summary>
    /// A rough upper estimate of the bytes one particle row takes in a training step (its latents, the activations it
    /// needs and their gradients), in float32.
    /// </summary>
    protected abstract double BytesPerParticle(TrainingConfiguration configuration);

    /// <summary>The bytes of the model's parameters with their gradients and Adam's two moments.</summary>
    protected abstract double ParameterBytes(TrainingConfiguration configuration);

    /// <summary>
    /// A rough upper estimate of the memory a run of <paramref name="configuration"/> needs at its largest moment: the
    /// most particle rows alive at once (a training step's B·M·K, or B·C with particle chunks of C; the gradient probe's
    /// B_grad·M·K or B_grad·C; an evaluation pass's points × particle chunk) times <see cref="BytesPerParticle"/>, plus the
    /// parameters (the per-particle log-densities a chunked step keeps are small beside them). Used to refuse requests far
    /// beyond the machine's memory before anything is allocated.
    /// </summary>
    public double EstimateBytes(TrainingConfiguration configuration)
    {
        double perDraw = (double)configuration.OuterSamples * configuration.Particles;
        if (configuration.ParticleChunk > 0) perDraw = Math.Min(perDraw, configuration.ParticleChunk);
        double rows = Math.Max(configuration.BatchSize * perDraw,
                               configuration.GradientEvery > 0 ? configuration.GradientBatchSize * perDraw : 0);
        int evaluated = Math.Max(configuration.EvaluationParticles, configuration.FinalEvaluationParticles);
        rows = Math.Max(rows, (double)configuration.EvaluationPointsPerPass * Math.Min(configuration.EvaluationChunk, evaluated));
        return rows * BytesPerParticle(configuration) + ParameterBytes(configuration);
    }

    /// <summary>A generator for the model's initialisation, distinct from the run's particle and data streams.</summary>
    protected static Generator InitializationGenerator(ulong seed) => RandomStreams.Create(seed, RandomStreams.ModelInitialization);
}
