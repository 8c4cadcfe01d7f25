using System.Diagnostics;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Benchmarks;

/// <summary>One benchmark configuration: a model, an estimator and the sizes of one training step.</summary>
/// <param name="Model">model name (<see cref="ModelCatalog"/>).</param>
/// <param name="Estimator">estimator id.</param>
/// <param name="Particles">K.</param>
/// <param name="BatchSize">B.</param>
/// <param name="Steps">timed steps.</param>
/// <param name="WarmupSteps">untimed steps first.</param>
/// <param name="Seed">seed of the data and particles.</param>
public sealed record StepBenchmarkCase(string Model, string Estimator, int Particles, int BatchSize, int Steps = 50, int WarmupSteps = 10, ulong Seed = 1);

/// <summary>Timing of one configuration: milliseconds per full training step (forward, estimator, backward, Adam).</summary>
/// <param name="Case">the configuration.</param>
/// <param name="MedianMilliseconds">median ms per step.</param>
/// <param name="LowerQuartileMilliseconds">25th percentile.</param>
/// <param name="UpperQuartileMilliseconds">75th percentile.</param>
/// <param name="PeakResidentMegabytes">peak resident set size of the process (VmHWM), MB.</param>
/// <param name="CpuMillisecondsPerStep">process CPU time (user + system) per timed step, ms: less sensitive than wall time to
/// other work on a shared machine.</param>
/// <param name="Phases">median ms of each phase of the step: forward (the model's particles), estimator (the surrogate),
/// backward, optimizer.</param>
public sealed record StepBenchmarkResult(StepBenchmarkCase Case, double MedianMilliseconds, double LowerQuartileMilliseconds, double UpperQuartileMilliseconds,
    double PeakResidentMegabytes, double CpuMillisecondsPerStep = double.NaN, IReadOnlyDictionary<string, double>? Phases = null);

/// <summary>
/// Times full training steps of an estimator on a model: forward with K particles, the estimator's surrogate,
/// backward and an Adam step, each step in its own dispose scope (platform.md §6), after a warm-up.
/// </summary>
public static class StepBenchmark
{
    /// <summary>Run one configuration in this process.</summary>
    public static StepBenchmarkResult Run(StepBenchmarkCase benchmark, Device? device = null)
    {
        var catalog = ModelCatalog.Create(benchmark.Model, device: device);
        var estimator = EstimatorRegistry.Create(benchmark.Estimator);
        var generator = new Generator(benchmark.Seed);
        var data = catalog.SampleBatch(benchmark.BatchSize, generator);
        var optimizer = optim.Adam(catalog.Model.parameters(), lr: 1e-4);
        var settings = new EstimatorSettings(benchmark.Particles);
        var times = new double[benchmark.Steps];
        var phases = new Dictionary<string, double[]> { ["forward"] = new double[benchmark.Steps], ["estimator"] = new double[benchmark.Steps],
                                                        ["backward"] = new double[benchmark.Steps], ["optimizer"] = new double[benchmark.Steps] };
        var phase = new Stopwatch();
        void Mark(string name, int index)
        {
            if (index >= 0) phases[name][index] = phase.Elapsed.TotalMilliseconds;
            phase.Restart();
        }
        var process = Process.GetCurrentProcess();
        TimeSpan cpuAtStart = TimeSpan.Zero;
        for (int step = -benchmark.WarmupSteps; step < benchmark.Steps; step++)
        {
            if (step == 0) { process.Refresh(); cpuAtStart = process.TotalProcessorTime; }
            var watch = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                phase.Restart();
                var context = new EstimatorContext(settings, catalog.Model, data, generator);
                var densities = estimator.DrawParticles(context);
                Mark("forward", step);
                var result = estimator.Surrogate(densities, context);
                Mark("estimator", step);
                result.Loss.backward();
                Mark("backward", step);
                optimizer.step();
                Mark("optimizer", step);
            }
            watch.Stop();
            if (step >= 0) times[step] = watch.Elapsed.TotalMilliseconds;
        }
        process.Refresh();
        double cpuPerStep = (process.TotalProcessorTime - cpuAtStart).TotalMilliseconds / benchmark.Steps;
        Array.Sort(times);
        var phaseMedians = phases.ToDictionary(p => p.Key, p => { Array.Sort(p.Value); return Quantile(p.Value, 0.5); });
        return new StepBenchmarkResult(benchmark, Quantile(times, 0.5), Quantile(times, 0.25), Quantile(times, 0.75), ProcessMemory.PeakResidentMegabytes(), cpuPerStep, phaseMedians);
    }

    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int low = (int)Math.Floor(position), high = (int)Math.Ceiling(position);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }
}

/// <summary>Resident memory of this process from /proc/self/status (Linux).</summary>
public static class ProcessMemory
{
    /// <summary>VmHWM, the peak resident set size, in MB (NaN where /proc is unavailable).</summary>
    public static double PeakResidentMegabytes() => Read("VmHWM:");

    /// <summary>VmRSS, the current resident set size, in MB.</summary>
    public static double ResidentMegabytes() => Read("VmRSS:");

    private static double Read(string key)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return double.NaN;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        if (line is null) return double.NaN;
        var kilobytes = double.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return kilobytes / 1024.0;
    }
}
