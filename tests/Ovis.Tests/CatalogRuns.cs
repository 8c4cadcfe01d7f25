using Ovis.Catalog;
using Ovis.Training;

namespace Ovis.Tests;

/// <summary>Train a catalog run in one call, as <c>ovis train</c> does.</summary>
public static class CatalogRuns
{
    /// <summary>Build the run of <paramref name="configuration"/> in <paramref name="directory"/> and train it.</summary>
    public static TrainingSummary Train(TrainingConfiguration configuration, string directory, bool resume = false, long? stopAfterSteps = null)
    {
        using var run = CatalogRun.Create(configuration, directory);
        run.Trainer.StopAfterSteps = stopAfterSteps;
        return run.Trainer.Run(resume);
    }
}
