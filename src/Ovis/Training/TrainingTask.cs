using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// What the trainer trains: a model, its data and, optionally, model-specific metrics. Disposing the task disposes
/// the model and a disposable data source; a <see cref="Trainer"/> never disposes the task it was given.
/// </summary>
public sealed class TrainingTask : IDisposable
{
    /// <summary>Pair a model with its data.</summary>
    /// <param name="model">the model trained (θ and φ).</param>
    /// <param name="data">the training stream and held-out points.</param>
    /// <param name="metrics">model-specific metrics for each evaluation record, or null.</param>
    /// <param name="name">the name written to summary.json (default: the model module's name).</param>
    public TrainingTask(LatentVariableModel model, ITrainingData data, ITrainingMetrics? metrics = null, string? name = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Data = data ?? throw new ArgumentNullException(nameof(data));
        Metrics = metrics;
        Name = name ?? model.GetName();
    }

    /// <summary>The model trained.</summary>
    public LatentVariableModel Model { get; }

    /// <summary>The data source.</summary>
    public ITrainingData Data { get; }

    /// <summary>Model-specific metrics, or null.</summary>
    public ITrainingMetrics? Metrics { get; }

    /// <summary>The model's name in summaries.</summary>
    public string Name { get; }

    /// <summary>The model-specific metrics on <paramref name="heldOut"/>, empty without <see cref="Metrics"/>.</summary>
    public IReadOnlyDictionary<string, double> MeasureMetrics(Tensor heldOut)
        => Metrics?.Measure(heldOut) ?? new Dictionary<string, double>();

    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        (Data as IDisposable)?.Dispose();
    }
}
