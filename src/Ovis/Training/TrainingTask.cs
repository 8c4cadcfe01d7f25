using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// A model together with its data stream and its model-specific metrics: what the trainer needs beyond the
/// estimator. The data stream draws from the run's generator, and whatever position it keeps is part of the
/// checkpoint (<see cref="SaveState"/>), so a resumed run sees exactly the batches of an uninterrupted one.
/// </summary>
public abstract class TrainingTask : IDisposable
{
    /// <summary>The model trained.</summary>
    public abstract LatentVariableModel Model { get; }

    /// <summary>The next training mini-batch x, [B, ...], drawn with the run's generator.</summary>
    public abstract Tensor NextBatch(int batchSize, Generator generator);

    /// <summary>A held-out batch of <paramref name="size"/> points for evaluation and gradient analysis.</summary>
    public abstract Tensor HeldOutBatch(int size, Generator generator);

    /// <summary>
    /// A fixed subset of the training data for the train L_K of paper Figure 3, or null when the task has none
    /// (the synthetic tasks draw their held-out batch from the training distribution already).
    /// </summary>
    public virtual Tensor? TrainingSubset(int size, Generator generator) => null;

    /// <summary>
    /// True when evaluations use the chunked <see cref="Evaluation.LikelihoodEvaluator"/> on the test and training
    /// subsets (the deep models, experiments.md §1.5 items 4–5) rather than the estimator's own diagnostics.
    /// </summary>
    public virtual bool UsesLikelihoodEvaluator => false;

    /// <summary>Model-specific metrics on a held-out batch (estimators.md §6), keyed by name.</summary>
    public abstract IReadOnlyDictionary<string, double> Metrics(Tensor heldOut);

    /// <summary>Write the data stream's position (nothing for an infinite stream).</summary>
    public virtual void SaveState(BinaryWriter writer) { }

    /// <summary>Restore the data stream's position written by <see cref="SaveState"/>.</summary>
    public virtual void LoadState(BinaryReader reader) { }

    /// <inheritdoc />
    public virtual void Dispose() => Model.Dispose();
}

/// <summary>The Gaussian mixture task (experiments.md §2.2): an infinite stream c ~ π*, x ~ N(10c, 5²).</summary>
public sealed class GaussianMixtureTask : TrainingTask
{
    private readonly GaussianMixtureModel model;

    /// <summary>Create the model, initialised from <paramref name="generator"/>.</summary>
    public GaussianMixtureTask(Generator generator, Device device)
    {
        model = new GaussianMixtureModel(generator: generator);
        model.to(device);
    }

    /// <inheritdoc />
    public override LatentVariableModel Model => model;

    /// <summary>Metric key of the posterior error (an L2 norm, averaged over x).</summary>
    public const string PosteriorErrorKey = "gmm/posterior_error";

    /// <summary>Metric key of the prior error ‖softmax θ − π*‖₂.</summary>
    public const string PriorErrorKey = "gmm/prior_error";

    /// <inheritdoc />
    public override Tensor NextBatch(int batchSize, Generator generator) => model.SampleData(batchSize, generator);

    /// <inheritdoc />
    public override Tensor HeldOutBatch(int size, Generator generator) => model.SampleData(size, generator);

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> Metrics(Tensor heldOut) => new Dictionary<string, double>
    {
        [PosteriorErrorKey] = model.PosteriorError(heldOut),
        [PriorErrorKey] = model.PriorError(),
    };
}

/// <summary>
/// The Gaussian toy trained on its fixed data set (experiments.md §2.8): D = 20, 1,024 points drawn with seed 42,
/// shuffled mini-batches without replacement each epoch; the held-out batch is taken from the same set.
/// </summary>
public sealed class GaussianToyTask : TrainingTask
{
    private readonly GaussianToyModel model;
    private readonly Tensor data;          // [N, D]
    private readonly Tensor trueMean;      // μ* = mean(x), [D]
    private Tensor? permutation;           // this epoch's order, [N]
    private long cursor;

    /// <summary>Create the data set and the model (parameters U[1.5, 2.5) from <paramref name="generator"/>).</summary>
    public GaussianToyTask(Generator generator, Device device, int dimension = 20, int points = 1024)
    {
        (var x, _) = GaussianToyModel.GenerateData(dimension, points);
        data = x.to(device);
        trueMean = data.mean(new long[] { 0 });
        model = new GaussianToyModel(dimension, generator: generator);
        model.to(device);
    }

    /// <inheritdoc />
    public override LatentVariableModel Model => model;

    /// <inheritdoc />
    public override Tensor NextBatch(int batchSize, Generator generator)
    {
        long n = data.shape[0];
        var pieces = new List<Tensor>();
        long needed = Math.Min(batchSize, n);
        while (needed > 0)
        {
            if (permutation is null || cursor >= n)
            {
                permutation?.Dispose();
                permutation = randperm(n, generator: generator);
                permutation.DetachFromDisposeScope();
                cursor = 0;
            }
            long take = Math.Min(needed, n - cursor);
            pieces.Add(permutation.narrow(0, cursor, take));
            cursor += take;
            needed -= take;
        }
        return data.index_select(0, cat(pieces.ToArray(), 0).to(data.device));
    }

    /// <inheritdoc />
    public override Tensor HeldOutBatch(int size, Generator generator) => data.narrow(0, 0, Math.Min(size, data.shape[0]));

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> Metrics(Tensor heldOut)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var dimension = model.Dimension;
        var errorA = model.Weight - eye(dimension, dtype: model.Weight.dtype, device: data.device) / 2;
        var errorB = model.Bias - trueMean / 2;
        var errorMu = model.Mu - trueMean;
        double a = errorA.square().sum().ToDouble(), b = errorB.square().sum().ToDouble();
        return new Dictionary<string, double>
        {
            ["gaussian_toy/mse_A"] = Math.Sqrt(a),
            ["gaussian_toy/mse_b"] = Math.Sqrt(b),
            ["gaussian_toy/mse_mu"] = Math.Sqrt(errorMu.square().sum().ToDouble()),
            ["gaussian_toy/mse_phi"] = Math.Sqrt(a + b),
        };
    }

    /// <inheritdoc />
    public override void SaveState(BinaryWriter writer)
    {
        writer.Write(permutation is not null);
        if (permutation is null) return;
        var order = permutation.cpu().data<long>().ToArray();
        writer.Write(order.Length);
        foreach (var i in order) writer.Write(i);
        writer.Write(cursor);
    }

    /// <inheritdoc />
    public override void LoadState(BinaryReader reader)
    {
        if (!reader.ReadBoolean()) { permutation = null; cursor = 0; return; }
        var order = new long[reader.ReadInt32()];
        for (int i = 0; i < order.Length; i++) order[i] = reader.ReadInt64();
        permutation?.Dispose();
        permutation = tensor(order);
        permutation.DetachFromDisposeScope();
        cursor = reader.ReadInt64();
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        permutation?.Dispose();
        base.Dispose();
    }
}

/// <summary>The models <c>ovis train</c> knows, by name.</summary>
public static class TrainingTasks
{
    /// <summary>Accepted model names.</summary>
    public static readonly IReadOnlyList<string> Names = new[] { "gmm", "gaussian-toy", "sbn", "vae" };

    /// <summary>Throw a clear error for an unknown model name.</summary>
    public static void CheckName(string name)
    {
        if (!Names.Contains(name))
            throw new ArgumentException($"unknown model '{name}'; use one of: {string.Join(", ", Names)}");
    }

    /// <summary>Create the task of a run: the synthetic ones from the run generator, the image models from the configuration's data set.</summary>
    public static TrainingTask Create(TrainingConfiguration configuration, Generator generator, Device device)
        => ImageTrainingTask.Models.Contains(configuration.Model)
            ? new ImageTrainingTask(configuration, device)
            : Create(configuration.Model, generator, device);

    /// <summary>Create a synthetic task (gmm, gaussian-toy); the model is initialised from <paramref name="generator"/>.</summary>
    public static TrainingTask Create(string name, Generator generator, Device device)
    {
        CheckName(name);
        if (ImageTrainingTask.Models.Contains(name))
            throw new ArgumentException($"model '{name}' needs a data set: create it from a TrainingConfiguration");
        return name switch
        {
            "gmm" => new GaussianMixtureTask(generator, device),
            _ => new GaussianToyTask(generator, device),
        };
    }
}
