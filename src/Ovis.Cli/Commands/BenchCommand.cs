using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ovis.Benchmarks;
using Ovis.Runtime;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis bench</c>: median and spread of ms per training step (forward, estimator, backward, Adam) per (model,
/// estimator, K), the peak resident memory of each configuration measured in a fresh child process, and the ratio
/// of each step time to REINFORCE's at the same K (REINFORCE is the floor: the same forward and backward with no
/// control variate).
/// </summary>
public static class BenchCommand
{
    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model: " + string.Join(", ", Ovis.Catalog.ModelCatalog.Names), DefaultValueFactory = _ => "sbn" };
        var estimators = new Option<string>("--estimators", "--estimator") { Description = "comma-separated estimator ids; reinforce is added as the floor", DefaultValueFactory = _ => "reinforce,ovis-gamma1,ovis-gamma0,vimco-arithmetic,vimco-geometric,ovis-S10-exclusive" };
        var particles = new Option<string>("--iw") { Description = "K values, comma-separated", DefaultValueFactory = _ => "50" };
        var batch = new Option<int>("--batch-size") { Description = "B", DefaultValueFactory = _ => 24 };
        var steps = new Option<int>("--steps") { Description = "timed steps per configuration (at least 50 for the reported medians)", DefaultValueFactory = _ => 50 };
        var warmup = new Option<int>("--warmup") { Description = "untimed warm-up steps", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "intra-op threads", DefaultValueFactory = _ => 2 };
        var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
        var inProcess = new Option<bool>("--in-process") { Description = "run every configuration in this process (no per-configuration peak memory)" };
        var interleave = new Option<bool>("--interleave") { Description = "time the estimators of each K in one process with their steps interleaved, so that drift of a shared machine cancels in the ratios (no per-configuration memory or CPU time); with --particle-chunk each estimator is timed both unchunked and chunked" };
        var layers = new Option<string>("--layers") { Description = "the model's layer sizes as ovis train --layers reads them (default: the model's)", DefaultValueFactory = _ => "" };
        var chunk = new Option<int>("--particle-chunk") { Description = "particles per chunk of a step (0: all at once); with --study efficiency, the chunked series added beside the unchunked one and continued to K = 50,000", DefaultValueFactory = _ => 0 };
        var child = new Option<bool>("--child") { Hidden = true };
        var study = new Option<string?>("--study") { Description = "efficiency: the paper's memory and time versus K study (1-layer SBN, batch 24, K 10..5000)" };
        var output = new Option<string>("--out") { Description = "output folder of --study (CSV and PNG)", DefaultValueFactory = _ => "bench-efficiency" };
        var replot = new Option<bool>("--replot") { Description = "with --study efficiency: redraw the figures from the efficiency.csv in --out instead of measuring" };
        var command = new Command("bench", "Time training steps per estimator and K, with peak memory and the ratio to REINFORCE");
        foreach (var option in new Option[] { model, estimators, particles, batch, steps, warmup, threads, format, inProcess, interleave, layers, chunk, child, study, output, replot }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            OvisRuntime.Initialize(parse.GetValue(threads));
            int particleChunk = parse.GetValue(chunk);
            if (particleChunk < 0) throw new ArgumentException($"--particle-chunk must be 0 (off) or positive, got {particleChunk}");
            var layerSizes = string.IsNullOrWhiteSpace(parse.GetValue(layers)) ? Array.Empty<int>() : CommandRunner.ParseIntegers(parse.GetValue(layers)!, "--layers");
            if (parse.GetValue(study) is { } studyName)
            {
                if (studyName != "efficiency") throw new ArgumentException($"--study must be 'efficiency', got '{studyName}'");
                if (parse.GetValue(replot))
                {
                    var folder = parse.GetValue(output)!;
                    var csv = Path.Combine(folder, "efficiency.csv");
                    if (!File.Exists(csv)) throw new FileNotFoundException($"--replot: no efficiency.csv in {Path.GetFullPath(folder)}");
                    EfficiencyStudy.WriteFigures(EfficiencyStudy.Read(csv), folder);
                    Console.WriteLine($"redrew efficiency-memory.png and efficiency-time.png in {Path.GetFullPath(folder)}");
                    return 0;
                }
                var studyEstimators = parse.GetResult(estimators) is null or { Implicit: true } ? EfficiencyStudy.DefaultEstimators
                    : parse.GetValue(estimators)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                foreach (var id in studyEstimators) Ovis.Estimators.EstimatorRegistry.Create(id);
                if (particleChunk > 0 && parse.GetResult(estimators) is null or { Implicit: true }) studyEstimators = EfficiencyStudy.ChunkedEstimators;
                var studyParticles = parse.GetResult(particles) is not (null or { Implicit: true }) ? CommandRunner.ParseIntegers(parse.GetValue(particles)!, "--iw")
                    : particleChunk > 0 ? EfficiencyStudy.ChunkedParticles : EfficiencyStudy.DefaultParticles;
                var studyResults = EfficiencyStudy.Run(studyEstimators, studyParticles, parse.GetValue(batch),
                    c => RunChild(c, parse.GetValue(threads)),
                    r => Console.WriteLine($"  {EfficiencyStudy.Series(r)} K={r.Case.Particles}: {r.MedianMilliseconds:F1} ms/step ({r.Case.Steps} steps), peak {r.PeakResidentMegabytes:F0} MB"),
                    particleChunk);
                EfficiencyStudy.Write(studyResults, parse.GetValue(output)!);
                Console.WriteLine($"wrote efficiency.csv, efficiency-memory.png and efficiency-time.png to {Path.GetFullPath(parse.GetValue(output)!)}");
                return 0;
            }
            var ids = parse.GetValue(estimators)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            foreach (var id in ids) Ovis.Estimators.EstimatorRegistry.Create(id);
            var ks = CommandRunner.ParseIntegers(parse.GetValue(particles)!, "--iw");
            int batchSize = parse.GetValue(batch), stepCount = parse.GetValue(steps), warmupCount = parse.GetValue(warmup);
            if (batchSize < 1 || stepCount < 1 || warmupCount < 0) throw new ArgumentException("--batch-size and --steps must be positive, --warmup non-negative");
            Ovis.Catalog.ModelCatalog.Get(parse.GetValue(model)!);
            if (parse.GetValue(child))
            {
                var single = StepBenchmark.Run(new StepBenchmarkCase(parse.GetValue(model)!, ids[0], ks[0], batchSize, stepCount, warmupCount, Layers: layerSizes, ParticleChunk: particleChunk));
                Console.WriteLine(JsonSerializer.Serialize(single));
                return 0;
            }
            var outputFormat = parse.GetValue(format);
            if (outputFormat is not ("table" or "json")) throw new ArgumentException($"--format must be table or json, got '{outputFormat}'");
            if (!ids.Contains("reinforce")) ids.Insert(0, "reinforce");
            var results = new List<StepBenchmarkResult>();
            if (parse.GetValue(interleave))
            {
                // With --particle-chunk, each estimator is timed unchunked and chunked in the same rounds: the ratio of the two is taken in one run.
                var chunkings = particleChunk > 0 ? new[] { 0, particleChunk } : new[] { 0 };
                foreach (var k in ks)
                    results.AddRange(StepBenchmark.RunInterleaved(ids.SelectMany(id => chunkings.Select(c =>
                        new StepBenchmarkCase(parse.GetValue(model)!, id, k, batchSize, stepCount, warmupCount, Layers: layerSizes, ParticleChunk: c))).ToArray()));
                Write(results, outputFormat);
                return 0;
            }
            foreach (var k in ks)
                foreach (var id in ids)
                {
                    var benchmark = new StepBenchmarkCase(parse.GetValue(model)!, id, k, batchSize, stepCount, warmupCount, Layers: layerSizes, ParticleChunk: particleChunk);
                    var result = parse.GetValue(inProcess) ? StepBenchmark.Run(benchmark) : RunChild(benchmark, parse.GetValue(threads));
                    results.Add(result);
                    if (outputFormat == "table")
                        Console.Error.WriteLine($"  {benchmark.Model} {id} K={k}: {result.MedianMilliseconds:F2} ms/step, peak {result.PeakResidentMegabytes:F0} MB");
                }
            Write(results, outputFormat);
            return 0;
        }));
        return command;
    }

    /// <summary>Run one configuration in a fresh child process so its peak resident memory is its own.</summary>
    private static StepBenchmarkResult RunChild(StepBenchmarkCase benchmark, int threads)
    {
        using var process = CommandRunner.StartSelf(new[] { "bench", "--child", "--model", benchmark.Model, "--estimators", benchmark.Estimator,
                "--iw", benchmark.Particles.ToString(CultureInfo.InvariantCulture), "--batch-size", benchmark.BatchSize.ToString(CultureInfo.InvariantCulture),
                "--steps", benchmark.Steps.ToString(CultureInfo.InvariantCulture), "--warmup", benchmark.WarmupSteps.ToString(CultureInfo.InvariantCulture),
                "--threads", threads.ToString(CultureInfo.InvariantCulture), "--particle-chunk", benchmark.ParticleChunk.ToString(CultureInfo.InvariantCulture),
                "--layers", string.Join(",", benchmark.Layers ?? Array.Empty<int>()) }, redirect: true);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"benchmark {benchmark.Estimator} K={benchmark.Particles} failed: {stderr.Result.Trim()}");
        var line = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        return JsonSerializer.Deserialize<StepBenchmarkResult>(line) ?? throw new InvalidOperationException("empty benchmark result");
    }

    /// <summary>A table cell: "-" where the interleaved mode measured nothing (NaN).</summary>
    private static string Cell(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "-";

    /// <summary>A JSON-safe number: null where the interleaved mode measured nothing (NaN).</summary>
    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static void Write(IReadOnlyList<StepBenchmarkResult> results, string format)
    {
        // Ratios are to REINFORCE at the same K and chunk size, and for a chunked step also to the same estimator unchunked when it was timed.
        StepBenchmarkResult Reinforce(StepBenchmarkResult r) => results.First(x => x.Case.Estimator == "reinforce" && x.Case.Particles == r.Case.Particles && x.Case.ParticleChunk == r.Case.ParticleChunk);
        double Floor(StepBenchmarkResult r) => Reinforce(r).MedianMilliseconds;
        double CpuFloor(StepBenchmarkResult r) => Reinforce(r).CpuMillisecondsPerStep;
        double ToUnchunked(StepBenchmarkResult r) => r.Case.ParticleChunk == 0 ? double.NaN
            : results.FirstOrDefault(x => x.Case.Estimator == r.Case.Estimator && x.Case.Particles == r.Case.Particles && x.Case.ParticleChunk == 0) is { } unchunked
                ? r.MedianMilliseconds / unchunked.MedianMilliseconds : double.NaN;
        if (format == "json")
        {
            var rows = results.Select(r => new
            {
                estimator = r.Case.Estimator, model = r.Case.Model, iw = r.Case.Particles, batch_size = r.Case.BatchSize, particle_chunk = r.Case.ParticleChunk,
                median_ms_per_step = r.MedianMilliseconds, q25_ms = r.LowerQuartileMilliseconds, q75_ms = r.UpperQuartileMilliseconds,
                peak_rss_mb = Finite(r.PeakResidentMegabytes), ratio_to_reinforce = r.MedianMilliseconds / Floor(r), steps = r.Case.Steps,
                cpu_ms_per_step = Finite(r.CpuMillisecondsPerStep), cpu_ratio_to_reinforce = Finite(r.CpuMillisecondsPerStep / CpuFloor(r)), phases_ms = r.Phases,
                ratio_to_unchunked = Finite(ToUnchunked(r)),
            });
            Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return;
        }
        var table = new TextTable("model", "estimator", "K", "B", "chunk", "median ms/step", "IQR ms", "peak RSS MB", "ratio to reinforce", "CPU ms/step", "CPU ratio", "ratio to unchunked", "forward/estimator/backward/optimizer ms");
        foreach (var r in results)
            table.Add(r.Case.Model, r.Case.Estimator, r.Case.Particles.ToString(CultureInfo.InvariantCulture), r.Case.BatchSize.ToString(CultureInfo.InvariantCulture),
                r.Case.ParticleChunk == 0 ? "-" : r.Case.ParticleChunk.ToString(CultureInfo.InvariantCulture),
                r.MedianMilliseconds.ToString("F2", CultureInfo.InvariantCulture),
                $"{r.LowerQuartileMilliseconds.ToString("F2", CultureInfo.InvariantCulture)}–{r.UpperQuartileMilliseconds.ToString("F2", CultureInfo.InvariantCulture)}",
                Cell(r.PeakResidentMegabytes, "F0"), (r.MedianMilliseconds / Floor(r)).ToString("F3", CultureInfo.InvariantCulture),
                Cell(r.CpuMillisecondsPerStep, "F2"), Cell(r.CpuMillisecondsPerStep / CpuFloor(r), "F3"), Cell(ToUnchunked(r), "F3"),
                r.Phases is null ? "-" : string.Join(" / ", new[] { "forward", "estimator", "backward", "optimizer" }.Select(p => r.Phases[p].ToString("F2", CultureInfo.InvariantCulture))));
        table.Write(Console.Out);
    }
}
