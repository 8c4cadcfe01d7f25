using System.Diagnostics;
using Ovis.Catalog;
using Ovis.Estimators;
using Ovis.Models;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Benchmarks;

/// <summary>One benchmark configuration: a model, an estimator and the sizes of one training step.</summary>
/// <param name="Model">model name (<see cref="ModelCatalog"/>).</param>
/// <param name="Layers">the model's layer sizes as <c>--layers</c> gives them (null or empty: its default).</param>
/// <param name="ParticleChunk">particles per chunk of the step (<see cref="Ovis.Estimators.ChunkedGradient"/>; 0: all at once).</param>
/// <param name="Estimator">estimator id.</param>
/// <param name="Particles">K.</param>
/// <param name="BatchSize">B.</param>
/// <param name="Steps">timed steps.</param>
/// <param name="WarmupSteps">untimed steps first.</param>
/// <param name="Seed">seed of the data and particles.</param>
public sealed record StepBenchmarkCase(string Model, string Estimator, int Particles, int BatchSize, int Steps = 50, int WarmupSteps = 10, ulong Seed = 1,
                                       IReadOnlyList<int>? Layers = null, int ParticleChunk = 0);

/// <summary>Timing of one configuration: milliseconds per full training step (forward, estimator, backward, Adam).</summary>
/// <param name="Case">the configuration.</param>
/// <param name="MedianMilliseconds">median ms per step.</param>
/// <param name="LowerQuartileMilliseconds">25th percentile.</param>
/// <param name="UpperQuartileMilliseconds">75th percentile.</param>
/// <param name="PeakResidentMegabytes">peak resident set size of the process (VmHWM), MB.</param>
/// <param name="CpuMillisecondsPerStep">process CPU time (user + system) per timed step, ms: less sensitive than wall time to
/// other work on a shared machine.</param>
/// <param name="Phases">median ms of each phase of the step: forward (the model's particles), estimator (the surrogate),
/// backward, optimizer; a chunked step interleaves the first three, reported together as backward.</param>
public sealed record StepBenchmarkResult(StepBenchmarkCase Case, double MedianMilliseconds, double LowerQuartileMilliseconds, double UpperQuartileMilliseconds,
    double PeakResidentMegabytes, double CpuMillisecondsPerStep = double.NaN, IReadOnlyDictionary<string, double>? Phases = null);

/// <summary>
/// Times full training steps of an estimator on a model: forward with K particles, the estimator's surrogate,
/// backward and an Adam step, each step in its own dispose scope (docs/platform.md §6), after a warm-up.
/// </summary>
public static class StepBenchmark
{
    /// <summary>
    /// Time <paramref name="benchmark"/>: warm-up steps, then the timed steps, each a full training step (forward,
    /// estimator, backward, Adam) in its own dispose scope; the peak RSS is this process's.
    /// </summary>
    public static StepBenchmarkResult Run(StepBenchmarkCase benchmark, Device? device = null)
    {
        using var runner = new StepRunner(benchmark, device);
        var process = Process.GetCurrentProcess();
        TimeSpan cpuAtStart = TimeSpan.Zero;
        for (int step = -benchmark.WarmupSteps; step < benchmark.Steps; step++)
        {
            if (step == 0) { process.Refresh(); cpuAtStart = process.TotalProcessorTime; }
            runner.Step(step);
        }
        process.Refresh();
        double cpuPerStep = (process.TotalProcessorTime - cpuAtStart).TotalMilliseconds / benchmark.Steps;
        return runner.Result(ProcessMemory.PeakResidentMegabytes(), cpuPerStep);
    }

    /// <summary>
    /// Time several configurations in one process with their steps interleaved (one step of each in turn, the order
    /// rotating every round), so that a drift of the machine's speed — ±20 % over minutes on a shared virtual machine —
    /// affects all of them alike and their ratios stay meaningful. Peak memory and CPU time are not separated per
    /// configuration (NaN); measure them with <see cref="Run"/> in fresh processes.
    /// </summary>
    public static IReadOnlyList<StepBenchmarkResult> RunInterleaved(IReadOnlyList<StepBenchmarkCase> cases, Device? device = null)
    {
        if (cases.Count == 0) throw new ArgumentException("nothing to benchmark");
        if (cases.Select(c => (c.Steps, c.WarmupSteps)).Distinct().Count() != 1)
            throw new ArgumentException("interleaved configurations must share the numbers of steps and warm-up steps");
        var runners = new List<StepRunner>();
        try
        {
            foreach (var benchmark in cases) runners.Add(new StepRunner(benchmark, device));
            for (int step = -cases[0].WarmupSteps; step < cases[0].Steps; step++)
                for (int i = 0; i < runners.Count; i++)
                    runners[(i + step + cases[0].WarmupSteps) % runners.Count].Step(step);
            return runners.Select(r => r.Result(double.NaN, double.NaN)).ToArray();
        }
        finally
        {
            foreach (var runner in runners) runner.Dispose();
        }
    }

    /// <summary>One configuration's model, data, estimator and optimiser, and the times of its steps.</summary>
    private sealed class StepRunner : IDisposable
    {
        private readonly StepBenchmarkCase benchmark;
        private readonly BenchmarkModel catalog;
        private readonly GradientEstimator estimator;
        private readonly Generator generator;
        private readonly Tensor data;
        private readonly ContiguousParameters parameters;
        private readonly IReadOnlyList<TorchSharp.Modules.Parameter> estimatorParameters;
        private readonly optim.Optimizer optimizer;
        private readonly EstimatorSettings settings;
        private readonly double[] times;
        private readonly Dictionary<string, double[]> phases;
        private readonly Stopwatch phase = new();

        public StepRunner(StepBenchmarkCase benchmark, Device? device)
        {
            this.benchmark = benchmark;
            catalog = ModelCatalog.Get(benchmark.Model).CreateForBenchmark(ScalarType.Float32, device ?? CPU, benchmark.Layers ?? Array.Empty<int>());
            estimator = EstimatorRegistry.Create(benchmark.Estimator);
            generator = new Generator(benchmark.Seed);
            data = catalog.SampleBatch(benchmark.BatchSize, generator);
            estimatorParameters = estimator is IEstimatorWithParameters owner ? owner.InitializeParameters(data, generator) : Array.Empty<TorchSharp.Modules.Parameter>();
            parameters = new ContiguousParameters(catalog.Model.parameters().Concat(estimatorParameters).ToArray());   // as the trainer's OptimizerSet does
            optimizer = optim.Adam(new[] { parameters.Flat }, lr: 1e-4);
            settings = new EstimatorSettings(benchmark.Particles);
            times = new double[benchmark.Steps];
            phases = new[] { "forward", "estimator", "backward", "optimizer" }.ToDictionary(name => name, _ => new double[benchmark.Steps]);
        }

        private void Mark(string name, int index)
        {
            if (index >= 0) phases[name][index] = phase.Elapsed.TotalMilliseconds;
            phase.Restart();
        }

        /// <summary>One training step; recorded when <paramref name="index"/> ≥ 0 (negative: warm-up).</summary>
        public void Step(int index)
        {
            var watch = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                parameters.ZeroGradients();
                phase.Restart();
                var context = new EstimatorContext(settings, catalog.Model, data, generator);
                if (benchmark.ParticleChunk > 0)
                {
                    Mark("forward", -1);
                    ChunkedGradient.Backward(estimator, context, benchmark.ParticleChunk);
                    Mark("backward", index);
                }
                else
                {
                    var densities = estimator.DrawParticles(context);
                    Mark("forward", index);
                    var result = estimator.Surrogate(densities, context);
                    Mark("estimator", index);
                    result.Loss.backward();
                    Mark("backward", index);
                }
                optimizer.step();
                Mark("optimizer", index);
            }
            watch.Stop();
            if (index >= 0) times[index] = watch.Elapsed.TotalMilliseconds;
        }

        public StepBenchmarkResult Result(double peakResidentMegabytes, double cpuMillisecondsPerStep)
        {
            var sorted = times.Order().ToArray();
            var phaseMedians = phases.ToDictionary(p => p.Key, p => Quantile(p.Value.Order().ToArray(), 0.5));
            return new StepBenchmarkResult(benchmark, Quantile(sorted, 0.5), Quantile(sorted, 0.25), Quantile(sorted, 0.75),
                                           peakResidentMegabytes, cpuMillisecondsPerStep, phaseMedians);
        }

        public void Dispose()
        {
            optimizer.Dispose();
            data.Dispose();
            generator.Dispose();
            catalog.Model.Dispose();
        }
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
