using Ovis.Estimators;
using Ovis.Runtime;
using Ovis.Training;

namespace Ovis.Catalog;

/// <summary>
/// A run of a catalog model as <c>ovis train</c> describes it (<see cref="TrainingConfiguration"/>): the model and its
/// data built from the catalog, the estimator from the registry, and the <see cref="Training.Trainer"/> over them.
/// Disposing it disposes the trainer and the task.
/// </summary>
public sealed class CatalogRun : IDisposable
{
    private CatalogRun(TrainingConfiguration configuration, TrainingTask task, Trainer trainer)
    {
        Configuration = configuration;
        Task = task;
        Trainer = trainer;
    }

    /// <summary>The run's configuration.</summary>
    public TrainingConfiguration Configuration { get; }

    /// <summary>The model and its data.</summary>
    public TrainingTask Task { get; }

    /// <summary>The trainer.</summary>
    public Trainer Trainer { get; }

    /// <summary>
    /// Validate <paramref name="configuration"/> (every check of <see cref="TrainingConfiguration.Validate"/>), build
    /// its model and data on its device, and set up the trainer writing to <paramref name="directory"/>.
    /// </summary>
    public static CatalogRun Create(TrainingConfiguration configuration, string directory)
    {
        configuration.Validate();
        var device = OvisRuntime.ResolveDevice(configuration.Device);
        var estimator = EstimatorRegistry.Create(configuration.Estimator);
        var task = configuration.ModelEntry().CreateTask(configuration, device);
        try
        {
            return new CatalogRun(configuration, task, new Trainer(task, estimator, configuration, directory));
        }
        catch
        {
            task.Dispose();
            throw;
        }
    }

    /// <summary>Read <c>config.json</c> of the run in <paramref name="directory"/>.</summary>
    public static TrainingConfiguration ReadConfiguration(string directory)
    {
        var path = Path.Combine(directory, Trainer.ConfigurationFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} does not exist; is {directory} a run directory?", path);
        return TrainingConfiguration.FromJson(File.ReadAllText(path));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Trainer.Dispose();
        Task.Dispose();
    }
}
