using Ovis.Catalog;
using Ovis.Models;
using Ovis.Training;
using static TorchSharp.torch;

namespace Ovis.Reporting;

/// <summary>
/// The figures of a finished catalog run, written into its directory: <c>training-curve.png</c> (the entry's curve
/// metrics against the step) and, for a Bernoulli image model with a data set, the prior samples and the
/// reconstructions (<see cref="ImageFigures"/>), from generators fixed by the seed so a resumed run draws the same.
/// </summary>
public static class RunFigures
{
    /// <summary>File name of the training-curve figure.</summary>
    public const string CurveFile = "training-curve.png";

    /// <summary>Write the figures of <paramref name="run"/> into <paramref name="directory"/>; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(CatalogRun run, string directory)
    {
        var configuration = run.Configuration;
        var entry = configuration.ModelEntry();
        var written = new List<string>();
        var curve = Path.Combine(directory, CurveFile);
        TrainingCurvePlot.Write(Path.Combine(directory, Trainer.MetricsFile), curve, entry.CurveMetrics,
                                $"{configuration.Model}, {configuration.Estimator}, K = {configuration.Particles}, seed {configuration.Seed}",
                                logScale: entry.LogScaleCurve);
        written.Add(curve);
        if (run.Task.Model is IBernoulliImageModel imageModel && run.Task.Data.HasTrainingSplit)
        {
            using var scope = NewDisposeScope();
            var prior = Path.Combine(directory, ImageFigures.PriorSamplesFile);
            using (var priorGenerator = RandomStreams.Create(configuration.Seed, RandomStreams.Final + 2))
                ImageFigures.WritePriorSamples(imageModel, prior, generator: priorGenerator);
            var reconstructions = Path.Combine(directory, ImageFigures.ReconstructionsFile);
            using var pointsGenerator = RandomStreams.Create(configuration.Seed, RandomStreams.Final + 3);
            var images = run.Task.Data.HeldOutBatch(16, pointsGenerator);
            ImageFigures.WriteReconstructions(run.Task.Model, images, reconstructions, pointsGenerator);
            written.Add(prior);
            written.Add(reconstructions);
        }
        return written;
    }
}
