using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Ovis.Catalog;
using Ovis.Reporting;
using Ovis.Runtime;
using Ovis.Training;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis train</c>: train a catalog model with one estimator (docs/experiments.md §1.3–1.5) and write metrics.jsonl,
/// metrics.csv, TensorBoard event files, checkpoints, summary.json and the run's figures to the run directory. Options
/// not given take the model's defaults (<see cref="ModelEntry.Defaults"/>). Without options it runs the embedded
/// default: the GMM of paper Figure 2 with ovis-gamma1, K = 20, batch 100, lr 1e−3, for <see cref="DefaultSteps"/>
/// steps. SIGTERM or Ctrl-C stops at the next step boundary with a checkpoint (exit code 3); <c>--resume</c> continues.
/// </summary>
public static class TrainCommand
{
    /// <summary>Steps of the embedded default run.</summary>
    public const long DefaultSteps = 24000;

    /// <summary>Exit code of a run stopped on request (SIGTERM, Ctrl-C) with a checkpoint to resume from.</summary>
    public const int Stopped = 3;

    /// <summary>Exit code of a diverged run (a non-finite loss, log-weight or parameter).</summary>
    public const int Diverged = 4;

    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var defaults = new TrainingConfiguration();
        var model = new Option<string>("--model") { Description = "model: " + string.Join("; ", ModelCatalog.Entries.Select(e => $"{e.Name} ({e.Description})")), DefaultValueFactory = _ => defaults.Model };
        var estimator = new Option<string>("--estimator") { Description = "estimator id (see ovis estimators)", DefaultValueFactory = _ => defaults.Estimator };
        var iw = new Option<int>("--iw") { Description = "K, particles of the training bound", DefaultValueFactory = _ => defaults.Particles };
        var mc = new Option<int>("--mc") { Description = "M, outer samples", DefaultValueFactory = _ => defaults.OuterSamples };
        var steps = new Option<long>("--steps") { Description = "training steps", DefaultValueFactory = _ => DefaultSteps };
        var batch = new Option<int>("--batch-size") { Description = "mini-batch size (sbn/vae: 24)", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate (sbn/vae: 3e-4)", DefaultValueFactory = _ => defaults.LearningRate };
        var lrReduce = new Option<string>("--lr-reduce-at") { Description = "comma-separated steps at which the learning rate is multiplied by --lr-reduce-factor", DefaultValueFactory = _ => "" };
        var lrFactor = new Option<double>("--lr-reduce-factor") { Description = "learning-rate reduction factor in (0, 1]", DefaultValueFactory = _ => defaults.LearningRateFactor };
        var alpha = new Option<double>("--alpha") { Description = "Rényi α in [0, 1): constant, or the end value of the warm-up", DefaultValueFactory = _ => defaults.Alpha };
        var alphaInit = new Option<double>("--alpha-init") { Description = "α at the start of the warm-up", DefaultValueFactory = _ => defaults.AlphaInit };
        var warmup = new Option<long>("--warmup") { Description = "warm-up period in steps (0: no warm-up)", DefaultValueFactory = _ => defaults.Warmup };
        var warmupMode = new Option<string>("--warmup-mode") { Description = "log or linear", DefaultValueFactory = _ => "log" };
        var seed = new Option<ulong>("--seed") { Description = $"seed of the model initialisation, data and particles, in [0, {RandomStreams.MaximumSeed}]", DefaultValueFactory = _ => defaults.Seed };
        var evalEvery = new Option<long>("--eval-every") { Description = "evaluate every this many steps", DefaultValueFactory = _ => defaults.EvaluateEvery };
        var evalIw = new Option<int>("--eval-iw") { Description = "K of the evaluation bound, α = 0 (sbn/vae: 1000)", DefaultValueFactory = _ => defaults.EvaluationParticles };
        var evalBatch = new Option<int>("--eval-batch-size", "--eval-points") { Description = "held-out (test) points of the evaluation", DefaultValueFactory = _ => defaults.EvaluationBatchSize };
        var dataset = new Option<string>("--dataset") { Description = "sbn/vae: mnist, fashion-mnist or binarized-mnist", DefaultValueFactory = _ => defaults.Dataset };
        var binarization = new Option<string>("--binarization") { Description = "sbn/vae: default (dynamic for MNIST, threshold >= 128 for Fashion), dynamic, static (one fixed-seed draw) or threshold", DefaultValueFactory = _ => defaults.Binarization };
        var layers = new Option<string>("--layers") { Description = "sbn: stochastic layer sizes (default 200,200,200); vae: N,H (default 200,200)", DefaultValueFactory = _ => "" };
        var evalChunk = new Option<int>("--eval-chunk") { Description = "particles per forward pass of the L_K evaluation", DefaultValueFactory = _ => defaults.EvaluationChunk };
        var trainEvalPoints = new Option<int>("--train-eval-points") { Description = "sbn/vae: points of the fixed training subset evaluated with L_K (0: none)", DefaultValueFactory = _ => defaults.TrainEvaluationPoints };
        var finalEvalIw = new Option<int>("--final-eval-iw") { Description = "K of the final test evaluation in summary.json, 0: none (gmm, gaussian-toy: 0)", DefaultValueFactory = _ => defaults.FinalEvaluationParticles };
        var finalEvalPoints = new Option<int>("--final-eval-points") { Description = "test points of the final evaluation", DefaultValueFactory = _ => defaults.FinalEvaluationPoints };
        var check = new Option<bool>("--check") { Description = "run every validation training would (options, estimator and model, memory estimate, data files) and print the configuration, without training" };
        var dataDir = new Option<string?>("--data-dir") { Description = "sbn/vae: data folder searched first (then $OVIS_DATA_DIR, ~/.cache/ovis, system folders)" };
        var checkpointEvery = new Option<long>("--checkpoint-every") { Description = "checkpoint every this many steps (0: only at the end)", DefaultValueFactory = _ => defaults.CheckpointEvery };
        var gradEvery = new Option<long>("--grad-every") { Description = "φ-gradient SNR every this many steps, a multiple of --eval-every (0: off)", DefaultValueFactory = _ => defaults.GradientEvery };
        var gradSamples = new Option<int>("--grad-samples") { Description = "gradient draws per SNR measurement", DefaultValueFactory = _ => defaults.GradientSamples };
        var gradBatch = new Option<int>("--grad-batch-size") { Description = "held-out points of the gradient analysis", DefaultValueFactory = _ => defaults.GradientBatchSize };
        var output = new Option<string?>("--out") { Description = "run directory (default runs/<timestamp>-<model>-<estimator>)" };
        var resume = new Option<bool>("--resume") { Description = "continue the run in --out from its last checkpoint, with its stored configuration" };
        var device = new Option<string>("--device") { Description = "cpu (cuda needs a CUDA build of TorchSharp)", DefaultValueFactory = _ => "cpu" };
        var threads = new Option<int>("--threads") { Description = "intra-op threads; 1 (the default) is fastest for these small models, and parallel runs do not compete", DefaultValueFactory = _ => 1 };

        var trainingOptions = new Option[] { model, estimator, iw, mc, steps, batch, lr, lrReduce, lrFactor, alpha, alphaInit, warmup, warmupMode, seed,
                                             evalEvery, evalIw, evalBatch, checkpointEvery, gradEvery, gradSamples, gradBatch,
                                             dataset, binarization, layers, evalChunk, trainEvalPoints, finalEvalIw, finalEvalPoints };
        var command = new Command("train", "Train a model with one gradient estimator; writes metrics.jsonl/csv, TensorBoard events, checkpoints, summary.json and figures");
        foreach (var option in trainingOptions.Concat(new Option[] { output, resume, device, threads, dataDir, check })) command.Options.Add(option);

        command.SetAction(parse => CommandRunner.Run(() =>
        {
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1) throw new ArgumentException($"--threads must be at least 1, got {threadCount}");
            OvisRuntime.Initialize(threadCount);
            OvisRuntime.ResolveDevice(parse.GetValue(device)!);
            TrainingConfiguration configuration;
            string directory;
            bool resuming = parse.GetValue(resume);
            if (resuming)
            {
                directory = parse.GetValue(output) ?? throw new ArgumentException("--resume needs --out DIR, the run directory to continue");
                var given = trainingOptions.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray();
                if (given.Length > 0)
                    throw new ArgumentException($"--resume continues with the stored configuration; drop {string.Join(", ", given)}");
                configuration = CatalogRun.ReadConfiguration(directory) with { Device = parse.GetValue(device)!, DataDirectory = parse.GetValue(dataDir) };
            }
            else
            {
                var entry = ModelCatalog.Get(parse.GetValue(model)!);
                var modelDefaults = entry.Defaults with { Steps = DefaultSteps };
                T Given<T>(Option<T> option, T fallback) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : fallback;
                configuration = modelDefaults with
                {
                    Estimator = parse.GetValue(estimator)!, Particles = Given(iw, modelDefaults.Particles), OuterSamples = Given(mc, modelDefaults.OuterSamples),
                    Steps = Given(steps, modelDefaults.Steps), BatchSize = Given(batch, modelDefaults.BatchSize), LearningRate = Given(lr, modelDefaults.LearningRate),
                    LearningRateReductions = ParseSteps(parse.GetValue(lrReduce)!), LearningRateFactor = Given(lrFactor, modelDefaults.LearningRateFactor),
                    Alpha = Given(alpha, modelDefaults.Alpha), AlphaInit = Given(alphaInit, modelDefaults.AlphaInit), Warmup = Given(warmup, modelDefaults.Warmup),
                    WarmupMode = AlphaSchedule.ParseMode(parse.GetValue(warmupMode)!), Seed = Given(seed, modelDefaults.Seed),
                    EvaluateEvery = Given(evalEvery, modelDefaults.EvaluateEvery), EvaluationParticles = Given(evalIw, modelDefaults.EvaluationParticles),
                    EvaluationBatchSize = Given(evalBatch, modelDefaults.EvaluationBatchSize),
                    CheckpointEvery = Given(checkpointEvery, modelDefaults.CheckpointEvery), GradientEvery = Given(gradEvery, modelDefaults.GradientEvery),
                    GradientSamples = Given(gradSamples, modelDefaults.GradientSamples), GradientBatchSize = Given(gradBatch, modelDefaults.GradientBatchSize),
                    Device = parse.GetValue(device)!, Dataset = Given(dataset, modelDefaults.Dataset), DataDirectory = parse.GetValue(dataDir),
                    Binarization = Given(binarization, modelDefaults.Binarization), Layers = ParseLayers(parse.GetValue(layers)!),
                    EvaluationChunk = Given(evalChunk, modelDefaults.EvaluationChunk), TrainEvaluationPoints = Given(trainEvalPoints, modelDefaults.TrainEvaluationPoints),
                    FinalEvaluationParticles = Given(finalEvalIw, modelDefaults.FinalEvaluationParticles),
                    FinalEvaluationPoints = Given(finalEvalPoints, modelDefaults.FinalEvaluationPoints),
                };
                configuration.Validate();
                if (parse.GetValue(check))
                {
                    entry.CheckAvailable(configuration);
                    Console.WriteLine(configuration.ToJson());
                    return 0;
                }
                directory = parse.GetValue(output)
                    ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-{configuration.Model}-{configuration.Estimator}");
                if (File.Exists(Path.Combine(directory, Trainer.CheckpointFile)))
                    throw new ArgumentException($"{directory} already holds a run; use --resume to continue it or choose another --out");
            }
            return Train(configuration, directory, resuming);
        }));
        return command;
    }

    private static int[] ParseLayers(string text)
        => string.IsNullOrWhiteSpace(text) ? Array.Empty<int>() : CommandRunner.ParseIntegers(text, "--layers").ToArray();

    private static long[] ParseSteps(string text)
        => string.IsNullOrWhiteSpace(text) ? Array.Empty<long>()
           : CommandRunner.ParseIntegers(text, "--lr-reduce-at").Select(v => (long)v).ToArray();

    /// <summary>Run the training (stopping at a step boundary on SIGTERM or Ctrl-C), print the summary and write the figures.</summary>
    private static int Train(TrainingConfiguration configuration, string directory, bool resume)
    {
        using var run = CatalogRun.Create(configuration, directory);
        Console.WriteLine($"ovis train: model {configuration.Model}, estimator {configuration.Estimator}, K = {configuration.Particles}, " +
                          $"batch {configuration.BatchSize}, lr {configuration.LearningRate.ToString(CultureInfo.InvariantCulture)}, " +
                          $"{configuration.Steps} steps, seed {configuration.Seed} -> {directory}{(resume ? " (resuming)" : "")}");
        using var stop = new CancellationTokenSource();
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        run.Trainer.Progress = new ProgressReporter(Console.Out, interactive: !Console.IsOutputRedirected, configuration.Steps);
        run.Trainer.StopRequest = stop.Token;
        var summary = run.Trainer.Run(resume);
        if (summary.TensorBoardError is not null) Console.WriteLine($"warning: {summary.TensorBoardError}");
        if (summary.Status == TrainingStatus.Stopped)
        {
            Console.Error.WriteLine($"ovis train: stopped at step {summary.Steps} with a checkpoint; continue with: ovis train --resume --out {directory}");
            return Stopped;
        }
        if (summary.Status == TrainingStatus.Diverged)
        {
            Console.Error.WriteLine($"ovis train: {summary.Error}; the metrics up to then are in {directory}");
            return Diverged;
        }

        var table = new TextTable("metric", "final", "min", "max");
        foreach (var (key, value) in summary.Final)
            table.Add(key, Format(value), Format(summary.Min.GetValueOrDefault(key)), Format(summary.Max.GetValueOrDefault(key)));
        table.Write(Console.Out);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{summary.Steps} steps in {summary.ElapsedSeconds:F1} s; this session {summary.StepsPerSecond:F0} steps/s, {summary.StepsPerCpuSecond:F0} steps per CPU second (evaluations included)"));

        if (summary.FinalEvaluation is { } final)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"final test L_{final["particles"]:F0} on {final["points"]:F0} points: {final["test:loss/L_k"]:F3} ± {final["test:loss/L_k_stderr"]:F3} " +
                $"(KL(q||p) {final["test:loss/kl_q_p"]:F3}, ESS {final["test:loss/ess"]:F3})"));
        var figures = RunFigures.Write(run, directory);
        Console.WriteLine($"wrote {Path.Combine(directory, Trainer.MetricsFile)}, {Path.Combine(directory, Trainer.SummaryFile)}, {string.Join(", ", figures)}");
        return 0;
    }

    private static string Format(double? value) => value is double v ? v.ToString("G5", CultureInfo.InvariantCulture) : "-";
}
