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

    /// <summary>The chunked study's K grid: the paper's, continued to 50,000.</summary>
    public static readonly int[] ChunkedParticles = { 10, 39, 158, 629, 2506, 5000, 10000, 20000, 50000 };

    /// <summary>The largest K run unchunked: the paper's, beyond which one step's particles alone need gigabytes.</summary>
    public const int LargestUnchunked = 5000;

    /// <summary>The paper's estimators.</summary>
    public static readonly string[] DefaultEstimators = { "ovis-gamma1", "tvo-part2-config1", "vimco-arithmetic", "reinforce" };

    /// <summary>The estimators of the chunked study: the score-function family the memory bound is for.</summary>
    public static readonly string[] ChunkedEstimators = { "reinforce", "vimco-arithmetic", "ovis-gamma1", "ovis-S10-exclusive" };

    /// <summary>Timed steps at K: 50 for small K, down to 3 at K = 5000 (the work per step grows linearly in K).</summary>
    public static int StepsFor(int particles) => Math.Clamp(2000 / particles, 3, 50);

    /// <summary>
    /// Run every (estimator, K) through <paramref name="run"/> (a fresh process per case) and return the results: all
    /// at once for K up to <see cref="LargestUnchunked"/>, and with <paramref name="particleChunk"/> &gt; 0 also in
    /// chunks of that many particles at every K.
    /// </summary>
    public static IReadOnlyList<StepBenchmarkResult> Run(IEnumerable<string> estimators, IEnumerable<int> particles, int batchSize,
        Func<StepBenchmarkCase, StepBenchmarkResult> run, Action<StepBenchmarkResult>? progress = null, int particleChunk = 0)
    {
        var results = new List<StepBenchmarkResult>();
        foreach (var k in particles)
            foreach (var estimator in estimators)
                foreach (var chunk in particleChunk > 0 ? new[] { 0, particleChunk } : new[] { 0 })
                {
                    if (chunk == 0 && k > LargestUnchunked) continue;
                    var result = run(new StepBenchmarkCase("sbn", estimator, k, batchSize, StepsFor(k), WarmupSteps: k >= 1000 ? 1 : 3, Layers: new[] { 200 },
                                                           ParticleChunk: chunk));
                    results.Add(result);
                    progress?.Invoke(result);
                }
        return results;
    }

    /// <summary>The label of a result's series in the figures and the CSV: the estimator, with its chunk size when chunked.</summary>
    public static string Series(StepBenchmarkResult result)
        => result.Case.ParticleChunk > 0 ? $"{result.Case.Estimator}, chunks of {result.Case.ParticleChunk}" : result.Case.Estimator;

    /// <summary>Write <c>efficiency.csv</c>, <c>efficiency-memory.png</c> and <c>efficiency-time.png</c> into <paramref name="directory"/>.</summary>
    public static void Write(IReadOnlyList<StepBenchmarkResult> results, string directory)
    {
        Directory.CreateDirectory(directory);
        var lines = new List<string> { CsvHeader };
        lines.AddRange(results.Select(r => string.Join(",", r.Case.Estimator, r.Case.ParticleChunk, r.Case.Particles, r.Case.BatchSize, r.Case.Steps,
            F(r.MedianMilliseconds), F(r.CpuMillisecondsPerStep), F(r.PeakResidentMegabytes), F(r.MedianMilliseconds * StepsPerEpoch / 1000))));
        File.WriteAllLines(Path.Combine(directory, "efficiency.csv"), lines);
        WriteFigures(results, directory);
    }

    /// <summary>Draw <c>efficiency-memory.png</c> (peak RSS against K) and <c>efficiency-time.png</c> (epoch time against K) into <paramref name="directory"/>.</summary>
    public static void WriteFigures(IReadOnlyList<StepBenchmarkResult> results, string directory)
    {
        Directory.CreateDirectory(directory);
        var byEstimator = results.GroupBy(Series).ToArray();
        LogLogChart.Save(Path.Combine(directory, "efficiency-memory.png"), "Peak RSS of a training step (1-layer SBN, B = 24)",
            "K (particles)", "peak RSS (MB)",
            byEstimator.Select(g => new ChartSeries(g.Key, g.Select(r => (double)r.Case.Particles).ToArray(), g.Select(r => r.PeakResidentMegabytes).ToArray())));
        LogLogChart.Save(Path.Combine(directory, "efficiency-time.png"), "Epoch time (2,084 steps, from the median step)",
            "K (particles)", "epoch time (s)",
            byEstimator.Select(g => new ChartSeries(g.Key, g.Select(r => (double)r.Case.Particles).ToArray(), g.Select(r => r.MedianMilliseconds * StepsPerEpoch / 1000).ToArray())));
    }

    private const string CsvHeader = "estimator,particle_chunk,iw,batch_size,steps,median_ms_per_step,cpu_ms_per_step,peak_rss_mb,epoch_seconds";

    /// <summary>
    /// Read the results back from an <c>efficiency.csv</c> that <see cref="Write"/> made, to redraw its figures without
    /// measuring again (the median is the only timing kept, so the quartiles read back as the median).
    /// </summary>
    /// <exception cref="InvalidDataException">the file is not such a CSV; the message names the line.</exception>
    public static IReadOnlyList<StepBenchmarkResult> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        // The study's first CSVs had no particle_chunk column: read them as unchunked.
        bool withChunk = lines.Length > 0 && lines[0] == CsvHeader;
        if (!withChunk && (lines.Length == 0 || lines[0] != CsvHeader.Replace("particle_chunk,", "")))
            throw new InvalidDataException($"{path}: line 1 is not the efficiency study's header ({CsvHeader})");
        var results = new List<StepBenchmarkResult>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var fields = lines[i].Split(',').ToList();
            if (!withChunk) fields.Insert(1, "0");
            try
            {
                if (fields.Count != 9) throw new FormatException($"{fields.Count} fields instead of 9");
                var benchmarkCase = new StepBenchmarkCase("sbn", fields[0], int.Parse(fields[2], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture),
                                                          int.Parse(fields[4], CultureInfo.InvariantCulture), Layers: new[] { 200 }, ParticleChunk: int.Parse(fields[1], CultureInfo.InvariantCulture));
                double median = double.Parse(fields[5], CultureInfo.InvariantCulture);
                results.Add(new StepBenchmarkResult(benchmarkCase, median, median, median, double.Parse(fields[7], CultureInfo.InvariantCulture),
                                                    double.Parse(fields[6], CultureInfo.InvariantCulture)));
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{path}: line {i + 1} is not a result ({e.Message})");
            }
        }
        return results;
    }

    private static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
