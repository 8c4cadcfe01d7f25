using Ovis.Evaluation;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>One K of <see cref="RunEvaluation"/>.</summary>
/// <param name="Estimate">L_K, ELBO and ESS per test point.</param>
/// <param name="RiseOverPrevious">mean over the points of L_K − L_{K_prev} (NaN for the first K).</param>
/// <param name="RiseStandardError">standard error of that mean from the per-point differences (the points are shared, so the
/// comparison is paired).</param>
public sealed record RunEvaluationRow(LikelihoodEstimate Estimate, double RiseOverPrevious, double RiseStandardError);

/// <summary>
/// L_K of a trained run at several K on the same fixed test points (docs/experiments.md §1.5): the model is restored from
/// the run's checkpoint, the bound is evaluated in particle chunks (exact), and each K's rise over the previous one is
/// reported with its paired standard error, so that "L_K rises with K beyond its Monte Carlo error" can be read off.
/// </summary>
public static class RunEvaluation
{
    /// <summary>Evaluate the run in <paramref name="runDirectory"/> at each of <paramref name="particles"/> (ascending).</summary>
    public static (long step, IReadOnlyList<RunEvaluationRow> rows) Evaluate(string runDirectory, IReadOnlyList<int> particles, int points,
                                                                             int particleChunk = 500, ulong seed = 1, string? dataDirectory = null)
    {
        if (particles.Count == 0 || particles.Any(k => k < 1)) throw new ArgumentException("give at least one positive K");
        if (points < 1) throw new ArgumentException($"the evaluation needs at least one test point, got {points}");
        var configuration = CatalogRun.ReadConfiguration(runDirectory);
        if (dataDirectory is not null) configuration = configuration with { DataDirectory = dataDirectory };
        using var run = CatalogRun.Create(configuration, runDirectory);
        var trainer = run.Trainer;
        long step = trainer.LoadCheckpoint();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor data;
        using (var pointsGenerator = new Generator(seed))
            data = trainer.Task.Data.HeldOutBatch(points, pointsGenerator);
        var rows = new List<RunEvaluationRow>();
        double[]? previous = null;
        foreach (var k in particles)
        {
            using var generator = new Generator(unchecked(seed + (ulong)k));
            var estimate = new LikelihoodEvaluator(k, Math.Min(particleChunk, k), batchSize: 10).Evaluate(trainer.Task.Model, data, generator);
            double rise = double.NaN, error = double.NaN;
            if (previous is not null)
            {
                var differences = estimate.Bound.Zip(previous, (now, before) => now - before).ToArray();
                rise = differences.Average();
                error = LikelihoodEstimate.StandardError(differences);
            }
            rows.Add(new RunEvaluationRow(estimate, rise, error));
            previous = estimate.Bound;
        }
        return (step, rows);
    }
}
