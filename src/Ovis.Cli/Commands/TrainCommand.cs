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
/// steps. SIGTERM or Ctrl-C stops at the next step boundary with a checkpoint (exit code 75, "try again"); <c>--resume</c> continues.
/// </summary>
public static class TrainCommand
{
    /// <summary>Steps of the embedded default run.</summary>
    public const long DefaultSteps = 24000;

    /// <summary>Exit code of a run stopped on request (SIGTERM, Ctrl-C) with a checkpoint to resume from.</summary>
    public const int Stopped = Experiments.TrainerCommand.StoppedExitCode;

    /// <summary>Exit code of a diverged run (a non-finite loss, log-weight or parameter).</summary>
    public const int Diverged = Experiments.TrainerCommand.DivergedExitCode;

    /// <summary>Exit code of a run stopped by an error inside libtorch; its last checkpoint stays resumable.</summary>
    public const int NativeError = Experiments.TrainerCommand.NativeErrorExitCode;

    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var options = new TrainOptions();
        var command = options.Command();
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            int threadCount = parse.GetValue(options.Threads);
            if (threadCount < 1) throw new ArgumentException($"--threads must be at least 1, got {threadCount}");
            OvisRuntime.Initialize(threadCount);
            OvisRuntime.ResolveDevice(parse.GetValue(options.Device)!);
            TrainingConfiguration configuration;
            string directory;
            bool resuming = parse.GetValue(options.Resume);
            if (resuming)
            {
                directory = parse.GetValue(options.Output) ?? throw new ArgumentException("--resume needs --out DIR, the run directory to continue");
                var given = options.Training.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray();
                if (given.Length > 0)
                    throw new ArgumentException($"--resume continues with the stored configuration; drop {string.Join(", ", given)}");
                configuration = CatalogRun.ReadConfiguration(directory) with { Device = parse.GetValue(options.Device)!, DataDirectory = parse.GetValue(options.DataDirectory) };
            }
            else
            {
                configuration = options.Configuration(parse);
                if (parse.GetValue(options.Check))
                {
                    configuration.ModelEntry().CheckAvailable(configuration);
                    Console.WriteLine(configuration.ToJson());
                    return 0;
                }
                directory = parse.GetValue(options.Output)
                    ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-{configuration.Model}-{configuration.Estimator}");
                if (File.Exists(Path.Combine(directory, Trainer.CheckpointFile)))
                    throw new ArgumentException($"{directory} already holds a run; use --resume to continue it or choose another --out");
            }
            return Train(configuration, directory, resuming);
        }));
        return command;
    }

    /// <summary>
    /// Run every check <c>ovis train ARGS --check</c> runs on a run's arguments (the option syntax, every value, the
    /// estimator against the model, the memory estimate, the data files), without printing or training: null when they
    /// pass, else the first problem as one line. The experiment commands check a whole grid with it before any run starts.
    /// </summary>
    public static string? Check(IReadOnlyList<string> arguments)
    {
        var options = new TrainOptions();
        var parse = options.Command().Parse(arguments.ToArray());
        if (parse.Errors.Count > 0) return parse.Errors[0].Message;
        try
        {
            var configuration = options.Configuration(parse);
            configuration.ModelEntry().CheckAvailable(configuration);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or FileNotFoundException or InvalidDataException or FormatException)
        {
            return e.Message;
        }
    }

    /// <summary>The options of <c>ovis train</c>, and how they make a validated <see cref="TrainingConfiguration"/>.</summary>
    private sealed class TrainOptions
    {
        private static readonly TrainingConfiguration Defaults = new();
        public readonly Option<string> Model = new("--model") { Description = "model: " + string.Join("; ", ModelCatalog.Entries.Select(e => $"{e.Name} ({e.Description})")), DefaultValueFactory = _ => Defaults.Model };
        public readonly Option<string> Estimator = new("--estimator") { Description = "estimator id (see ovis estimators)", DefaultValueFactory = _ => Defaults.Estimator };
        public readonly Option<int> Iw = new("--iw") { Description = "K, particles of the training bound", DefaultValueFactory = _ => Defaults.Particles };
        public readonly Option<int> ParticleChunk = new("--particle-chunk") { Description = "particles per chunk of a training step (0: all at once): memory grows with batch × chunk instead of batch × K, the gradient is the same", DefaultValueFactory = _ => Defaults.ParticleChunk };
        public readonly Option<int> Mc = new("--mc") { Description = "M, outer samples", DefaultValueFactory = _ => Defaults.OuterSamples };
        public readonly Option<long> Steps = new("--steps") { Description = "training steps", DefaultValueFactory = _ => DefaultSteps };
        public readonly Option<long?> ReferenceSteps = new("--nsteps") { Description = "sbn/vae, instead of --steps: the reference run.py's --nsteps, which trains whole epochs ((1 + floor(nsteps / I))·I steps, I = batches per epoch): 20000 -> 20840 on MNIST at batch 24" };
        public readonly Option<int> Batch = new("--batch-size") { Description = "mini-batch size (sbn/vae: 24)", DefaultValueFactory = _ => Defaults.BatchSize };
        public readonly Option<double> Lr = new("--lr") { Description = "Adam learning rate (sbn/vae: 3e-4)", DefaultValueFactory = _ => Defaults.LearningRate };
        public readonly Option<string> LrReduce = new("--lr-reduce-at") { Description = "comma-separated steps at which the learning rate is multiplied by --lr-reduce-factor", DefaultValueFactory = _ => "" };
        public readonly Option<double> LrFactor = new("--lr-reduce-factor") { Description = "learning-rate reduction factor in (0, 1]", DefaultValueFactory = _ => Defaults.LearningRateFactor };
        public readonly Option<double> Alpha = new("--alpha") { Description = "Rényi α in [0, 1): constant, or the end value of the warm-up", DefaultValueFactory = _ => Defaults.Alpha };
        public readonly Option<double> AlphaInit = new("--alpha-init") { Description = "α at the start of the warm-up", DefaultValueFactory = _ => Defaults.AlphaInit };
        public readonly Option<long> Warmup = new("--warmup") { Description = "warm-up period in steps (0: no warm-up)", DefaultValueFactory = _ => Defaults.Warmup };
        public readonly Option<string> WarmupMode = new("--warmup-mode") { Description = "log or linear", DefaultValueFactory = _ => "log" };
        public readonly Option<ulong> Seed = new("--seed") { Description = $"seed of the model initialisation, data and particles, in [0, {RandomStreams.MaximumSeed}]", DefaultValueFactory = _ => Defaults.Seed };
        public readonly Option<long> EvalEvery = new("--eval-every") { Description = "evaluate every this many steps", DefaultValueFactory = _ => Defaults.EvaluateEvery };
        public readonly Option<int> EvalIw = new("--eval-iw") { Description = "K of the evaluation bound, α = 0 (sbn/vae: 1000)", DefaultValueFactory = _ => Defaults.EvaluationParticles };
        public readonly Option<int> EvalPoints = new("--eval-batch-size", "--eval-points") { Description = "held-out (test) points of the evaluation", DefaultValueFactory = _ => Defaults.EvaluationBatchSize };
        public readonly Option<string> Dataset = new("--dataset") { Description = "sbn/vae: mnist, fashion-mnist or binarized-mnist", DefaultValueFactory = _ => Defaults.Dataset };
        public readonly Option<string> Binarization = new("--binarization") { Description = "sbn/vae: default (dynamic for MNIST, threshold >= 128 for Fashion), dynamic, static (one fixed-seed draw) or threshold", DefaultValueFactory = _ => Defaults.Binarization };
        public readonly Option<string> Layers = new("--layers") { Description = "sbn: stochastic layer sizes (default 200,200,200); vae, vae-tvo: N,H (default 200,200)", DefaultValueFactory = _ => "" };
        public readonly Option<int> EvalChunk = new("--eval-chunk") { Description = "particles per forward pass of the L_K evaluation", DefaultValueFactory = _ => Defaults.EvaluationChunk };
        public readonly Option<int> TrainEvalPoints = new("--train-eval-points") { Description = "sbn/vae: points of the fixed training subset evaluated with L_K (0: none)", DefaultValueFactory = _ => Defaults.TrainEvaluationPoints };
        public readonly Option<int> FinalEvalIw = new("--final-eval-iw") { Description = "K of the final test evaluation in summary.json, 0: none (gmm, gaussian-toy: 0)", DefaultValueFactory = _ => Defaults.FinalEvaluationParticles };
        public readonly Option<int> FinalEvalPoints = new("--final-eval-points") { Description = "test points of the final evaluation", DefaultValueFactory = _ => Defaults.FinalEvaluationPoints };
        public readonly Option<long> CheckpointEvery = new("--checkpoint-every") { Description = "checkpoint every this many steps (0: only at the end)", DefaultValueFactory = _ => Defaults.CheckpointEvery };
        public readonly Option<long> GradEvery = new("--grad-every") { Description = "φ-gradient SNR every this many steps, a multiple of --eval-every (0: off)", DefaultValueFactory = _ => Defaults.GradientEvery };
        public readonly Option<int> GradSamples = new("--grad-samples") { Description = "gradient draws per SNR measurement", DefaultValueFactory = _ => Defaults.GradientSamples };
        public readonly Option<int> GradBatch = new("--grad-batch-size") { Description = "held-out points of the gradient analysis", DefaultValueFactory = _ => Defaults.GradientBatchSize };
        public readonly Option<bool> Check = new("--check") { Description = "run every validation training would (options, estimator and model, memory estimate, data files) and print the configuration, without training" };
        public readonly Option<string?> DataDirectory = new("--data-dir") { Description = "sbn/vae: data folder searched first (then $OVIS_DATA_DIR, ~/.cache/ovis, system folders)" };
        public readonly Option<string?> Output = new("--out") { Description = "run directory (default runs/<timestamp>-<model>-<estimator>)" };
        public readonly Option<bool> Resume = new("--resume") { Description = "continue the run in --out from its last checkpoint, with its stored configuration" };
        public readonly Option<string> Device = new("--device") { Description = "cpu (cuda needs a CUDA build of TorchSharp)", DefaultValueFactory = _ => "cpu" };
        public readonly Option<int> Threads = new("--threads") { Description = "intra-op threads; 1 (the default) is fastest for these small models, and parallel runs do not compete", DefaultValueFactory = _ => 1 };

        /// <summary>The options that define a run (refused together with --resume).</summary>
        public Option[] Training => new Option[] { Model, Estimator, Iw, ParticleChunk, Mc, Steps, ReferenceSteps, Batch, Lr, LrReduce, LrFactor, Alpha, AlphaInit, Warmup, WarmupMode, Seed,
                                                   EvalEvery, EvalIw, EvalPoints, CheckpointEvery, GradEvery, GradSamples, GradBatch,
                                                   Dataset, Binarization, Layers, EvalChunk, TrainEvalPoints, FinalEvalIw, FinalEvalPoints };

        public Command Command()
        {
            var command = new Command("train", "Train a model with one gradient estimator; writes metrics.jsonl/csv, TensorBoard events, checkpoints, summary.json and figures");
            foreach (var option in Training.Concat(new Option[] { Output, Resume, Device, Threads, DataDirectory, Check })) command.Options.Add(option);
            return command;
        }

        /// <summary>The configuration of a new run: every option given, else the model's default; validated.</summary>
        public TrainingConfiguration Configuration(ParseResult parse)
        {
            var modelDefaults = ModelCatalog.Get(parse.GetValue(Model)!).Defaults with { Steps = DefaultSteps };
            T Given<T>(Option<T> option, T fallback) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : fallback;
            var configuration = modelDefaults with
            {
                Estimator = parse.GetValue(Estimator)!, Particles = Given(Iw, modelDefaults.Particles), OuterSamples = Given(Mc, modelDefaults.OuterSamples),
                ParticleChunk = Given(ParticleChunk, modelDefaults.ParticleChunk),
                Steps = Given(Steps, modelDefaults.Steps), BatchSize = Given(Batch, modelDefaults.BatchSize), LearningRate = Given(Lr, modelDefaults.LearningRate),
                LearningRateReductions = ParseSteps(parse.GetValue(LrReduce)!), LearningRateFactor = Given(LrFactor, modelDefaults.LearningRateFactor),
                Alpha = Given(Alpha, modelDefaults.Alpha), AlphaInit = Given(AlphaInit, modelDefaults.AlphaInit), Warmup = Given(Warmup, modelDefaults.Warmup),
                WarmupMode = AlphaSchedule.ParseMode(parse.GetValue(WarmupMode)!), Seed = Given(Seed, modelDefaults.Seed),
                EvaluateEvery = Given(EvalEvery, modelDefaults.EvaluateEvery), EvaluationParticles = Given(EvalIw, modelDefaults.EvaluationParticles),
                EvaluationBatchSize = Given(EvalPoints, modelDefaults.EvaluationBatchSize),
                CheckpointEvery = Given(CheckpointEvery, modelDefaults.CheckpointEvery), GradientEvery = Given(GradEvery, modelDefaults.GradientEvery),
                GradientSamples = Given(GradSamples, modelDefaults.GradientSamples), GradientBatchSize = Given(GradBatch, modelDefaults.GradientBatchSize),
                Device = parse.GetValue(Device)!, Dataset = Given(Dataset, modelDefaults.Dataset), DataDirectory = parse.GetValue(DataDirectory),
                Binarization = Given(Binarization, modelDefaults.Binarization), Layers = ParseLayers(parse.GetValue(Layers)!),
                EvaluationChunk = Given(EvalChunk, modelDefaults.EvaluationChunk), TrainEvaluationPoints = Given(TrainEvalPoints, modelDefaults.TrainEvaluationPoints),
                FinalEvaluationParticles = Given(FinalEvalIw, modelDefaults.FinalEvaluationParticles),
                FinalEvaluationPoints = Given(FinalEvalPoints, modelDefaults.FinalEvaluationPoints),
            };
            if (parse.GetValue(ReferenceSteps) is long nsteps)
            {
                if (parse.GetResult(Steps) is { Implicit: false }) throw new ArgumentException("give --steps or --nsteps, not both");
                configuration = configuration with { Steps = configuration.ModelEntry().ReferenceSteps(nsteps, configuration) };
            }
            configuration.Validate();
            return configuration;
        }
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
        long? from = resume ? run.Trainer.ResumableStep() : null;
        Console.WriteLine($"ovis train: model {configuration.Model}, estimator {configuration.Estimator}, K = {configuration.Particles}, " +
                          $"batch {configuration.BatchSize}, lr {configuration.LearningRate.ToString(CultureInfo.InvariantCulture)}, " +
                          $"{configuration.Steps} steps, seed {configuration.Seed} -> {directory}{(from is long step ? $" (resuming at step {step})" : "")}");
        using var stop = new CancellationTokenSource();
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        run.Trainer.Progress = new ProgressReporter(Console.Out, interactive: !Console.IsOutputRedirected, configuration.Steps);
        run.Trainer.StopRequest = stop.Token;
        TrainingSummary summary;
        try
        {
            summary = run.Trainer.Run(resume);
        }
        catch (ExternalException e)
        {
            Console.Error.WriteLine($"ovis train: libtorch failed: {e.Message.Split('\n')[0]}; the last checkpoint in {directory} can be resumed with: ovis train --resume --out {directory}");
            return NativeError;
        }
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
