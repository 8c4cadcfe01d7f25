using System.Globalization;
using Ovis.Reporting;

namespace Ovis.Benchmarks;

/// <summary>
/// The paper's efficiency study (docs/experiments.md §2.6, §3.7): memory and time per training step against K for a
/// one-layer sigmoid belief network (200 units, batch 24), for OVIS~, TVO, VIMCO-arithmetic and REINFORCE. The
/// reference times whole epochs on a GPU; here each K is timed over a few steps (fewer at large K) and the epoch
/// time is extrapolated to 2,084 steps (one epoch of 50,000 images at batch 24).
/// </summary>
public static class EfficiencyStudy
{
    /// <summary>Steps in one epoch of binarised MNIST's 50,000 training images at batch 24.</summary>
    public const int StepsPerEpoch = 2084;

    /// <summary>The paper's K grid: ten geometric points from 10 to 5000.</summary>
    public static readonly int[] DefaultParticles = { 10, 19, 39, 79, 158, 315, 629, 1256, 2506, 5000 };

    /// <summary>The paper's estimators.</summary>
    public static readonly string[] DefaultEstimators = { "ovis-gamma1", "tvo-part2-config1", "vimco-arithmetic", "reinforce" };

    /// <summary>Timed steps at K: 50 for small K, down to 3 at K = 5000 (the work per step grows linearly in K).</summary>
    public static int StepsFor(int particles) => Math.Clamp(2000 / particles, 3, 50);

    /// <summary>Run every (estimator, K) through <paramref name="run"/> (a fresh process per case) and return the results.</summary>
    public static IReadOnlyList<StepBenchmarkResult> Run(IEnumerable<string> estimators, IEnumerable<int> particles, int batchSize,
        Func<StepBenchmarkCase, StepBenchmarkResult> run, Action<StepBenchmarkResult>? progress = null)
    {
        var results = new List<StepBenchmarkResult>();
        foreach (var k in particles)
            foreach (var estimator in estimators)
            {
                var result = run(new StepBenchmarkCase("sbn", estimator, k, batchSize, StepsFor(k), WarmupSteps: k >= 1000 ? 1 : 3, Layers: new[] { 200 }));
                results.Add(result);
                progress?.Invoke(result);
            }
        return results;
    }

    /// <summary>Write <c>efficiency.csv</c>, <c>efficiency-memory.png</c> and <c>efficiency-time.png</c> into <paramref name="directory"/>.</summary>
    public static void Write(IReadOnlyList<StepBenchmarkResult> results, string directory)
    {
        Directory.CreateDirectory(directory);
        var lines = new List<string> { "estimator,iw,batch_size,steps,median_ms_per_step,cpu_ms_per_step,peak_rss_mb,epoch_seconds" };
        lines.AddRange(results.Select(r => string.Join(",", r.Case.Estimator, r.Case.Particles, r.Case.BatchSize, r.Case.Steps,
            F(r.MedianMilliseconds), F(r.CpuMillisecondsPerStep), F(r.PeakResidentMegabytes), F(r.MedianMilliseconds * StepsPerEpoch / 1000))));
        File.WriteAllLines(Path.Combine(directory, "efficiency.csv"), lines);
        var byEstimator = results.GroupBy(r => r.Case.Estimator).ToArray();
        LogLogChart.Save(Path.Combine(directory, "efficiency-memory.png"), "Peak resident memory of a training step (1-layer SBN, batch 24)",
            "K (particles)", "peak RSS (MB)",
            byEstimator.Select(g => new ChartSeries(g.Key, g.Select(r => (double)r.Case.Particles).ToArray(), g.Select(r => r.PeakResidentMegabytes).ToArray())));
        LogLogChart.Save(Path.Combine(directory, "efficiency-time.png"), "Time of one epoch (2,084 steps, extrapolated from the median step)",
            "K (particles)", "epoch time (s)",
            byEstimator.Select(g => new ChartSeries(g.Key, g.Select(r => (double)r.Case.Particles).ToArray(), g.Select(r => r.MedianMilliseconds * StepsPerEpoch / 1000).ToArray())));
    }

    private static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
