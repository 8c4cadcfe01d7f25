using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ovis.Analysis;
using Ovis.Catalog;
using Ovis.Studies;
using Ovis.Estimators;
using Ovis.Models;
using Ovis.Reporting;
using static TorchSharp.torch;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis gradients</c>: the asymptotic SNR study of the paper's Figure 1 (docs/experiments.md §2.1) on the Gaussian toy.
/// Writes <c>gradients.csv</c> and <c>gradients.png</c> (four log–log panels) and prints the fitted log–log slopes.
/// </summary>
public static class GradientsCommand
{
    /// <summary>The estimators of the paper preset (Figure 1 and its extended version).</summary>
    public const string PaperEstimators = "pathwise-iwae,dreg,stl,ovis-gamma0,ovis-gamma1,vimco-arithmetic";

    /// <summary>The estimators of the quick preset (all score-function, available in the core library).</summary>
    public const string QuickEstimators = "ovis-gamma0,ovis-gamma1,vimco-arithmetic,ovis-S1-exclusive";

    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "the model (only gaussian-toy)", DefaultValueFactory = _ => "gaussian-toy" };
        var estimators = new Option<string?>("--estimators", "--estimator") { Description = "comma-separated estimator ids (default: the preset's)" };
        var particles = new Option<string?>("--iw") { Description = "K values, comma-separated (default: the preset's)" };
        var samples = new Option<int?>("--samples") { Description = "gradient draws per (estimator, K) (paper 10000, quick 300)" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the initialisation, perturbation and draws (the reference uses 10)", DefaultValueFactory = _ => 10UL };
        var output = new Option<string>("--out") { Description = "output directory", Required = true };
        var preset = new Option<string>("--preset") { Description = "paper or quick", DefaultValueFactory = _ => "quick" };
        var epsilon = new Option<double?>("--epsilon") { Description = "ε, std of the perturbation of the optimum (0.01)" };
        var points = new Option<int?>("--points") { Description = "data points, all in one batch (paper 1024, quick 64)" };
        var dimension = new Option<int?>("--dimension") { Description = "D (20)" };
        var spread = new Option<string>("--spread") { Description = "q's spread 2/3 as a standard deviation (std, the reference code) or a variance (variance, Rainforth et al.)", DefaultValueFactory = _ => "std" };
        var key = new Option<string>("--key") { Description = "parameters: name substrings (b, A, mu), inference or generative", DefaultValueFactory = _ => "b" };
        var reference = new Option<string>("--reference") { Description = "estimator whose mean at each K is taken as the true gradient for the bias column (must be unbiased; added to the run if missing)", DefaultValueFactory = _ => "ovis-gamma0" };
        var dtype = new Option<string>("--dtype") { Description = "float64 (default) or float32 (the reference's precision)", DefaultValueFactory = _ => "float64" };
        var chunk = new Option<long>("--chunk-elements") { Description = "latent elements (rows × particles × D) evaluated per vectorised chunk: bounds memory", DefaultValueFactory = _ => RowwiseGradientDraws.DefaultChunkElements };
        var gradientEpsilon = new Option<double>("--grad-epsilon") { Description = "ε of the statistics: variance threshold of the mask and floor of the SNR's standard deviation", DefaultValueFactory = _ => 1e-15 };
        var workers = new Option<int>("--workers") { Description = "processes computing cells at once, each with one thread (2 on a 2-core machine: the normal sampler is sequential, so cells in parallel use both cores better than intra-op threads); results do not depend on it", DefaultValueFactory = _ => 1 };
        var shard = new Option<string?>("--shard") { Hidden = true, Description = "i/n: compute only this share of the cells (set by --workers for its child processes)" };
        var resume = new Option<bool>("--resume") { Description = "reuse the cells an earlier run with the same settings finished in --out/cells (every finished cell is saved there)" };
        var savedOnly = new Option<bool>("--saved-only") { Description = "compute nothing: write the CSV, figure and slopes from the cells already saved in --out/cells (e.g. while a long study is still running) and list the missing ones" };
        var command = new Command("gradients", "Asymptotic SNR study on the Gaussian toy (the paper's Figure 1): SNR, DSNR, variance and |E g| of each estimator against K");
        foreach (var option in new Option[] { model, estimators, particles, samples, seed, output, preset, epsilon, points, dimension, spread, key, reference, dtype, chunk, gradientEpsilon, resume, savedOnly, workers, shard })
            command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var entry = ModelCatalog.Get(parse.GetValue(model)!);
            if (entry is not GaussianToyEntry)
                throw new ArgumentException($"--model must be gaussian-toy (the asymptotic study needs the toy's known optimum), got '{entry.Name}'");
            var presetName = parse.GetValue(preset);
            if (presetName is not ("paper" or "quick")) throw new ArgumentException($"--preset must be paper or quick, got '{presetName}'");
            var given = parse.GetValue(estimators);
            if (given is not null && string.IsNullOrWhiteSpace(given.Replace(",", "")))
                throw new ArgumentException("--estimators names no estimator; give ids such as ovis-gamma1,vimco-arithmetic, or leave it out for the preset's");
            var ids = EstimatorRegistry.CreateMany(given ?? (presetName == "paper" ? PaperEstimators : QuickEstimators))
                .Select(e => e.Id).ToList();
            if (ids.GroupBy(id => id).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new ArgumentException($"--estimators names {twice.Key} twice");
            var referenceId = EstimatorRegistry.Create(parse.GetValue(reference)!).Id;
            var claim = EstimatorRegistry.Create(referenceId).Claim(0);
            if (claim is null || !claim.IsUnbiased)
                throw new ArgumentException($"--reference '{referenceId}' is not an unbiased estimator at α = 0; use e.g. ovis-gamma0 or pathwise-iwae");
            if (!ids.Contains(referenceId)) ids.Add(referenceId);
            var settings = presetName == "paper" ? AsymptoticStudySettings.Paper(ids) : AsymptoticStudySettings.Quick(ids);
            settings = settings with
            {
                Particles = parse.GetValue(particles) is { } ks ? CommandRunner.ParseIntegers(ks, "--iw") : settings.Particles,
                Draws = parse.GetValue(samples) ?? settings.Draws,
                Points = parse.GetValue(points) ?? settings.Points,
                Dimension = parse.GetValue(dimension) ?? settings.Dimension,
                Perturbation = parse.GetValue(epsilon) ?? settings.Perturbation,
                Spread = parse.GetValue(spread) switch
                {
                    "std" => GaussianToySpread.StandardDeviationTwoThirds,
                    "variance" => GaussianToySpread.VarianceTwoThirds,
                    var s => throw new ArgumentException($"--spread must be std or variance, got '{s}'"),
                },
                Key = parse.GetValue(key)!,
                Seed = parse.GetValue(seed),
                GradientEpsilon = parse.GetValue(gradientEpsilon) >= 0 ? parse.GetValue(gradientEpsilon) : throw new ArgumentException("--grad-epsilon must be non-negative"),
                ChunkElements = parse.GetValue(chunk) > 0 ? parse.GetValue(chunk) : throw new ArgumentException("--chunk-elements must be positive"),
                Shard = ParseShard(parse.GetValue(shard)),
                DType = parse.GetValue(dtype) switch
                {
                    "float64" => ScalarType.Float64,
                    "float32" => ScalarType.Float32,
                    var d => throw new ArgumentException($"--dtype must be float64 or float32, got '{d}'"),
                },
            };
            int workerCount = parse.GetValue(workers);
            if (workerCount < 1) throw new ArgumentException("--workers must be at least 1");
            var directory = parse.GetValue(output)!;
            Directory.CreateDirectory(directory);
            bool reuse = parse.GetValue(resume);
            if (parse.GetValue(savedOnly))
            {
                if (settings.Shard != default || workerCount > 1) throw new ArgumentException("--saved-only computes nothing: it takes neither --workers nor --shard");
                Run(new AsymptoticStudy(settings), referenceId, directory, resume: true, savedOnly: true);
                return 0;
            }
            if (settings.Shard != default)
            {
                set_num_threads(1);                                                     // one of several worker processes
                var cells = new AsymptoticStudyCells(CellsFolder(directory), settings, reuse);
                new AsymptoticStudy(settings).Run(row => Console.WriteLine($"  [shard {settings.Shard.Index + 1}/{settings.Shard.Count}] {row.Estimator} K = {row.Particles}: SNR {Format(row.Statistics.MeanSnr)} ({row.Seconds:F1} s)"), cells);
                return 0;
            }
            WorkerRun? workerRun = null;
            if (workerCount > 1)
            {
                int savedBefore = reuse ? SavedCellCount(settings, directory) : 0;
                var watch = Stopwatch.StartNew();
                double peakMegabytes = RunShards(workerCount, reuse);
                workerRun = new WorkerRun(workerCount, watch.Elapsed.TotalSeconds, peakMegabytes, savedBefore);
                Console.WriteLine($"{workerCount} worker processes finished in {workerRun.Seconds:F1} s (largest worker peak RSS {peakMegabytes:F0} MB)");
                reuse = true;                                                           // every cell is now saved
            }
            Run(new AsymptoticStudy(settings), referenceId, directory, reuse, workers: workerRun);
            return 0;
        }));
        return command;
    }

    /// <summary>Where the study's finished cells are kept: <c>--out/cells</c>.</summary>
    private static string CellsFolder(string directory) => Path.Combine(directory, "cells");

    /// <summary>What the worker processes of one <c>--workers</c> run did, for the closing line of the report.</summary>
    /// <param name="Count">number of worker processes.</param>
    /// <param name="Seconds">wall time from their start to the end of the last.</param>
    /// <param name="PeakMegabytes">the largest peak RSS (VmHWM) seen among them.</param>
    /// <param name="SavedBefore">cells of the grid already saved (and reused) before they started.</param>
    public sealed record WorkerRun(int Count, double Seconds, double PeakMegabytes, int SavedBefore);

    /// <summary>How many cells of the study's grid are saved under its settings in <c>--out/cells</c>.</summary>
    private static int SavedCellCount(AsymptoticStudySettings settings, string directory) =>
        new AsymptoticStudy(settings).Run(cells: new AsymptoticStudyCells(CellsFolder(directory), settings, reuse: true), savedOnly: true).Count;

    /// <summary>"i/n" → (i, n); null → all cells.</summary>
    private static (int, int) ParseShard(string? text)
    {
        if (text is null) return default;
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out int index) && int.TryParse(parts[1], out int count) && count >= 1 && index >= 0 && index < count)
            return (index, count);
        throw new ArgumentException($"--shard must be i/n with 0 ≤ i < n, got '{text}'");
    }

    /// <summary>
    /// Compute the cells in <paramref name="count"/> child processes, each a shard of the study with one thread, all
    /// saving into the same cells folder; their output goes to this console. Processes rather than threads: TorchSharp's
    /// temporary scalars can be finalised by a collection on another thread while a native call still uses them
    /// ("Unknown scalar type", seen in a threaded run).
    /// </summary>
    /// <returns>the largest peak RSS of the workers in MB, read from /proc (VmHWM) once a second while they run.</returns>
    private static double RunShards(int count, bool reuse)
    {
        var arguments = Environment.GetCommandLineArgs().Skip(1).ToList();
        for (int i = 0; i < arguments.Count; i++)
            if (arguments[i] == "--workers") { arguments.RemoveRange(i, Math.Min(2, arguments.Count - i)); i--; }
            else if (arguments[i].StartsWith("--workers=", StringComparison.Ordinal)) { arguments.RemoveAt(i); i--; }
        var children = new List<Process>();
        try
        {
            for (int index = 0; index < count; index++)
            {
                var shard = arguments.Concat(new[] { "--shard", $"{index}/{count}" })
                    .Concat(reuse && !arguments.Contains("--resume") ? new[] { "--resume" } : Array.Empty<string>());
                children.Add(CommandRunner.StartSelf(shard, redirect: false));
            }
            double peakBytes = 0;
            while (children.Any(c => !c.HasExited))
            {
                foreach (var child in children)
                {
                    try
                    {
                        child.Refresh();
                        if (!child.HasExited) peakBytes = Math.Max(peakBytes, child.PeakWorkingSet64);
                    }
                    catch (InvalidOperationException) { }                               // exited between the checks
                }
                children.FirstOrDefault(c => !c.HasExited)?.WaitForExit(1000);
            }
            foreach (var child in children) child.WaitForExit();
            var failed = children.Select((c, i) => (c.ExitCode, i)).Where(c => c.ExitCode != 0).ToArray();
            if (failed.Length > 0)
                throw new InvalidOperationException($"worker(s) {string.Join(", ", failed.Select(f => $"{f.i + 1} (exit code {f.ExitCode})"))} failed; " +
                                                    "their messages are above; the finished cells are saved, rerun with --resume");
            return peakBytes / (1024.0 * 1024.0);
        }
        finally
        {
            foreach (var child in children)
            {
                if (!child.HasExited) child.Kill(entireProcessTree: true);
                child.Dispose();
            }
        }
    }

    /// <summary>Run the study, write the CSV and the figure, print the table and the slopes.</summary>
    /// <param name="study">the study (its settings fix the cells).</param>
    /// <param name="referenceId">the estimator whose mean is the bias column's reference.</param>
    /// <param name="directory"><c>--out</c>: the cells folder, the CSV and the figure.</param>
    /// <param name="resume">load the cells saved under the same settings instead of computing them.</param>
    /// <param name="savedOnly">compute nothing: report the saved cells only.</param>
    /// <param name="workers">when the cells were computed by <c>--workers</c> processes just before: what they did, reported in
    /// the closing line instead of this process's own (loading) time and memory.</param>
    public static IReadOnlyList<AsymptoticStudyRow> Run(AsymptoticStudy study, string referenceId, string directory, bool resume = false, bool savedOnly = false,
                                                        WorkerRun? workers = null)
    {
        var s = study.Settings;
        Console.WriteLine($"Gaussian toy: D = {s.Dimension}, {s.Points} points in one batch, q spread {s.Spread}, optimum + N(0, {s.Perturbation}²), " +
                          $"gradient of the batch-mean loss w.r.t. '{s.Key}', {s.Draws} draws per (estimator, K), seed {s.Seed}, {s.DType}.");
        var watch = Stopwatch.StartNew();
        var cells = new AsymptoticStudyCells(CellsFolder(directory), s, reuse: resume);
        var rows = study.Run(row => Console.WriteLine(
            $"  {row.Estimator,-22} K = {row.Particles,5}: SNR {Format(row.Statistics.MeanSnr)}  DSNR {Format(row.Statistics.DirectionalSnr)}  " +
            $"({row.Seconds:F1} s{(row.Restored ? ", saved earlier" : "")})"), cells, savedOnly);
        double seconds = watch.Elapsed.TotalSeconds;
        var missing = s.Estimators.SelectMany(e => s.Particles.Select(k => (e, k))).Where(c => !rows.Any(r => r.Estimator == c.e && r.Particles == c.k)).ToArray();
        if (missing.Length > 0)
            Console.WriteLine($"not saved yet ({missing.Length} cells, left out of the table, figure and slopes): " +
                              string.Join(", ", missing.Select(c => $"{c.e} K = {c.k}")));
        if (rows.Count == 0) throw new InvalidOperationException($"no cell of this study is saved in {CellsFolder(directory)} under these settings");

        var truth = rows.Where(r => r.Estimator == referenceId).ToDictionary(r => r.Particles, r => r.Statistics.Mean);
        var csv = new StringBuilder("estimator,K,draws,snr,dsnr,variance,magnitude,keep_ratio,snr_p50,relative_bias,cosine,bias_reference,seconds\n");
        var table = new TextTable("estimator", "K", "SNR", "DSNR", "variance", "|E g|", $"rel. bias vs {referenceId}", "seconds");
        foreach (var row in rows)
        {
            var st = row.Statistics;
            var comparison = row.Estimator == referenceId || !truth.TryGetValue(row.Particles, out var t) ? null : GradientStatistics.Compare(st.Mean, t);
            csv.AppendLine(string.Join(",", row.Estimator, row.Particles, st.Draws, Csv(st.MeanSnr), Csv(st.DirectionalSnr), Csv(st.MeanVariance),
                Csv(st.Magnitude), Csv(st.KeepRatio), Csv(st.Percentiles.P50), Csv(comparison?.RelativeBias), Csv(comparison?.Cosine),
                referenceId + "-mean", Csv(row.Seconds)));
            table.Add(row.Estimator, row.Particles.ToString(CultureInfo.InvariantCulture), Format(st.MeanSnr), Format(st.DirectionalSnr),
                Format(st.MeanVariance), Format(st.Magnitude), comparison is null ? "-" : Format(comparison.RelativeBias), row.Seconds.ToString("F1", CultureInfo.InvariantCulture));
        }
        var csvPath = Path.Combine(directory, "gradients.csv");
        var pngPath = Path.Combine(directory, "gradients.png");
        File.WriteAllText(csvPath, csv.ToString());
        AsymptoticFigure.Save(rows, pngPath);

        Console.WriteLine();
        table.Write(Console.Out);
        Console.WriteLine();
        Console.WriteLine("Least-squares slopes of log(value) on log K (√K = +0.5, 1/√K = −0.5):");
        var slopes = new TextTable("estimator", "SNR slope", "DSNR slope", "variance slope", "|E g| slope");
        foreach (var id in rows.Select(r => r.Estimator).Distinct())
        {
            var mine = rows.Where(r => r.Estimator == id).ToArray();
            double Slope(Func<GradientStatistics, double> f) => AsymptoticStudy.LogLogSlope(mine.Select(r => ((double)r.Particles, f(r.Statistics))));
            slopes.Add(id, Signed(Slope(x => x.MeanSnr)), Signed(Slope(x => x.DirectionalSnr)), Signed(Slope(x => x.MeanVariance)), Signed(Slope(x => x.Magnitude)));
        }
        slopes.Write(Console.Out);
        Console.WriteLine();
        Console.WriteLine($"bias column: relative distance of each mean to the mean of {referenceId} (unbiased at α = 0) at the same K, itself a Monte Carlo estimate.");
        int restored = rows.Count(r => r.Restored);
        double peak = Ovis.Benchmarks.ProcessMemory.PeakResidentMegabytes();
        string cost = workers is null
            ? $"wall time {seconds:F1} s; peak RSS {peak:F0} MB; the cells' own times sum to {rows.Sum(r => r.Seconds):F1} s " +
              $"({rows.Count - restored} computed now, {restored} saved earlier in {CellsFolder(directory)})"
            : $"wall time {workers.Seconds + seconds:F1} s with {workers.Count} worker processes; peak RSS {Math.Max(peak, workers.PeakMegabytes):F0} MB " +
              $"(the largest process); the cells' own times sum to {rows.Sum(r => r.Seconds):F1} s ({rows.Count - workers.SavedBefore} computed by the workers, " +
              $"{workers.SavedBefore} saved earlier in {CellsFolder(directory)})";
        Console.WriteLine($"wrote {csvPath} and {pngPath}; {cost}");
        return rows;
    }

    private static string Format(double v) => double.IsFinite(v) ? v.ToString("G4", CultureInfo.InvariantCulture) : "-";
    private static string Signed(double v) => double.IsFinite(v) ? v.ToString("+0.00;-0.00", CultureInfo.InvariantCulture) : "-";
    private static string Csv(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("R", CultureInfo.InvariantCulture) : "";
}
