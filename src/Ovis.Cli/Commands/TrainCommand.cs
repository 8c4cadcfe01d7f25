using System.CommandLine;
using System.Globalization;
using Ovis.Runtime;
using Ovis.Training;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis train</c>: train a model with one estimator (experiments.md §1.3–1.5) and write metrics.jsonl, metrics.csv,
/// TensorBoard event files, checkpoints, summary.json and a training-curve PNG to the run directory. Without options
/// it runs the embedded default: the GMM of paper Figure 2 with ovis-gamma1, K = 20, batch 100, lr 1e−3, for
/// <see cref="DefaultSteps"/> steps (about two to three minutes on two cores).
/// </summary>
public static class TrainCommand
{
    /// <summary>Steps of the embedded default run.</summary>
    public const long DefaultSteps = 24000;

    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var defaults = new TrainingConfiguration();
        var model = new Option<string>("--model") { Description = "model: " + string.Join(", ", TrainingTasks.Names), DefaultValueFactory = _ => defaults.Model };
        var estimator = new Option<string>("--estimator") { Description = "estimator id (see ovis estimators)", DefaultValueFactory = _ => defaults.Estimator };
        var iw = new Option<int>("--iw") { Description = "K, particles of the training bound", DefaultValueFactory = _ => defaults.Particles };
        var mc = new Option<int>("--mc") { Description = "M, outer samples", DefaultValueFactory = _ => defaults.OuterSamples };
        var steps = new Option<long>("--steps") { Description = "training steps", DefaultValueFactory = _ => DefaultSteps };
        var batch = new Option<int>("--batch-size") { Description = "mini-batch size", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => defaults.LearningRate };
        var lrReduce = new Option<string>("--lr-reduce-at") { Description = "comma-separated steps at which the learning rate is multiplied by --lr-reduce-factor", DefaultValueFactory = _ => "" };
        var lrFactor = new Option<double>("--lr-reduce-factor") { Description = "learning-rate reduction factor in (0, 1]", DefaultValueFactory = _ => defaults.LearningRateFactor };
        var alpha = new Option<double>("--alpha") { Description = "Rényi α in [0, 1): constant, or the end value of the warm-up", DefaultValueFactory = _ => defaults.Alpha };
        var alphaInit = new Option<double>("--alpha-init") { Description = "α at the start of the warm-up", DefaultValueFactory = _ => defaults.AlphaInit };
        var warmup = new Option<long>("--warmup") { Description = "warm-up period in steps (0: no warm-up)", DefaultValueFactory = _ => defaults.Warmup };
        var warmupMode = new Option<string>("--warmup-mode") { Description = "log or linear", DefaultValueFactory = _ => "log" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the model initialisation, data and particles", DefaultValueFactory = _ => defaults.Seed };
        var evalEvery = new Option<long>("--eval-every") { Description = "evaluate every this many steps", DefaultValueFactory = _ => defaults.EvaluateEvery };
        var evalIw = new Option<int>("--eval-iw") { Description = "K of the evaluation bound (α = 0)", DefaultValueFactory = _ => defaults.EvaluationParticles };
        var evalBatch = new Option<int>("--eval-batch-size", "--eval-points") { Description = "held-out (test) points of the evaluation", DefaultValueFactory = _ => defaults.EvaluationBatchSize };
        var dataset = new Option<string>("--dataset") { Description = "sbn/vae: mnist, fashion-mnist or binarized-mnist", DefaultValueFactory = _ => defaults.Dataset };
        var binarization = new Option<string>("--binarization") { Description = "sbn/vae: default (dynamic for MNIST, threshold >= 128 for Fashion), dynamic, static (one fixed-seed draw) or threshold", DefaultValueFactory = _ => defaults.Binarization };
        var layers = new Option<string>("--layers") { Description = "sbn: stochastic layer sizes (default 200,200,200); vae: N,H (default 200,200)", DefaultValueFactory = _ => "" };
        var evalChunk = new Option<int>("--eval-chunk") { Description = "sbn/vae: particles per forward pass of the L_K evaluation", DefaultValueFactory = _ => defaults.EvaluationChunk };
        var trainEvalPoints = new Option<int>("--train-eval-points") { Description = "sbn/vae: points of the fixed training subset evaluated with L_K (0: none)", DefaultValueFactory = _ => defaults.TrainEvaluationPoints };
        var finalEvalIw = new Option<int>("--final-eval-iw") { Description = "sbn/vae: K of the final test evaluation in summary.json (0: none)", DefaultValueFactory = _ => defaults.FinalEvaluationParticles };
        var finalEvalPoints = new Option<int>("--final-eval-points") { Description = "sbn/vae: test points of the final evaluation", DefaultValueFactory = _ => defaults.FinalEvaluationPoints };
        var check = new Option<bool>("--check") { Description = "validate the options and print the configuration, without loading data or training (used to check experiment files)" };
        var dataDir = new Option<string?>("--data-dir") { Description = "sbn/vae: data folder searched first (then $OVIS_DATA_DIR, ~/.cache/ovis, ../shared/data beside the checkout)" };
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
        var command = new Command("train", "Train a model with one gradient estimator; writes metrics.jsonl/csv, TensorBoard events, checkpoints, summary.json and a training-curve PNG");
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
                var stored = Path.Combine(directory, Trainer.ConfigurationFile);
                if (!File.Exists(stored)) throw new FileNotFoundException($"--resume: {stored} does not exist; is --out a run directory?");
                var given = trainingOptions.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray();
                if (given.Length > 0)
                    throw new ArgumentException($"--resume continues with the stored configuration; drop {string.Join(", ", given)}");
                configuration = TrainingConfiguration.FromJson(File.ReadAllText(stored)) with { Device = parse.GetValue(device)!, DataDirectory = parse.GetValue(dataDir) };
            }
            else
            {
                configuration = new TrainingConfiguration
                {
                    Model = parse.GetValue(model)!, Estimator = parse.GetValue(estimator)!, Particles = parse.GetValue(iw), OuterSamples = parse.GetValue(mc),
                    Steps = parse.GetValue(steps), BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr),
                    LearningRateReductions = ParseSteps(parse.GetValue(lrReduce)!), LearningRateFactor = parse.GetValue(lrFactor),
                    Alpha = parse.GetValue(alpha), AlphaInit = parse.GetValue(alphaInit), Warmup = parse.GetValue(warmup),
                    WarmupMode = AlphaSchedule.ParseMode(parse.GetValue(warmupMode)!), Seed = parse.GetValue(seed),
                    EvaluateEvery = parse.GetValue(evalEvery), EvaluationParticles = parse.GetValue(evalIw), EvaluationBatchSize = parse.GetValue(evalBatch),
                    CheckpointEvery = parse.GetValue(checkpointEvery), GradientEvery = parse.GetValue(gradEvery), GradientSamples = parse.GetValue(gradSamples), GradientBatchSize = parse.GetValue(gradBatch),
                    Device = parse.GetValue(device)!, Dataset = parse.GetValue(dataset)!, DataDirectory = parse.GetValue(dataDir),
                    Binarization = parse.GetValue(binarization)!, Layers = ParseLayers(parse.GetValue(layers)!), EvaluationChunk = parse.GetValue(evalChunk),
                    TrainEvaluationPoints = parse.GetValue(trainEvalPoints), FinalEvaluationParticles = parse.GetValue(finalEvalIw),
                    FinalEvaluationPoints = parse.GetValue(finalEvalPoints),
                };
                bool Implicit(Option option) => parse.GetResult(option) is null or { Implicit: true };
                if (ImageTrainingTask.Models.Contains(configuration.Model))
                    configuration = configuration with   // the paper's deep-model settings (experiments.md §2.3–2.4) unless given
                    {
                        BatchSize = Implicit(batch) ? DeepBatchSize : configuration.BatchSize,
                        LearningRate = Implicit(lr) ? DeepLearningRate : configuration.LearningRate,
                        EvaluationParticles = Implicit(evalIw) ? DeepEvaluationParticles : configuration.EvaluationParticles,
                    };
                configuration.Validate();
                if (parse.GetValue(check))
                {
                    Console.WriteLine(configuration.ToJson());
                    return 0;
                }
                directory = parse.GetValue(output)
                    ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-{configuration.Model}-{configuration.Estimator}");
                if (File.Exists(Path.Combine(directory, Checkpoint.FileName)))
                    throw new ArgumentException($"{directory} already holds a run; use --resume to continue it or choose another --out");
            }
            return Train(configuration, directory, resuming);
        }));
        return command;
    }

    /// <summary>Defaults of sbn and vae when not given: the paper's batch 24, lr 3e−4, and L_1000 at every evaluation.</summary>
    public const int DeepBatchSize = 24, DeepEvaluationParticles = 1000;

    /// <summary>The paper's learning rate of the deep models.</summary>
    public const double DeepLearningRate = 3e-4;

    private static int[] ParseLayers(string text)
        => string.IsNullOrWhiteSpace(text) ? Array.Empty<int>() : CommandRunner.ParseIntegers(text, "--layers").ToArray();

    private static long[] ParseSteps(string text)
        => string.IsNullOrWhiteSpace(text) ? Array.Empty<long>()
           : CommandRunner.ParseIntegers(text, "--lr-reduce-at").Select(v => (long)v).ToArray();

    /// <summary>Run the training, then print the summary and write the training-curve PNG.</summary>
    private static int Train(TrainingConfiguration configuration, string directory, bool resume)
    {
        Console.WriteLine($"ovis train: model {configuration.Model}, estimator {configuration.Estimator}, K = {configuration.Particles}, " +
                          $"batch {configuration.BatchSize}, lr {configuration.LearningRate.ToString(CultureInfo.InvariantCulture)}, " +
                          $"{configuration.Steps} steps, seed {configuration.Seed} -> {directory}{(resume ? " (resuming)" : "")}");
        using var trainer = new Trainer(configuration, directory)
        {
            Progress = new ProgressReporter(Console.Out, interactive: !Console.IsOutputRedirected, configuration.Steps),
        };
        var summary = trainer.Run(resume);
        if (summary.TensorBoardError is not null) Console.WriteLine($"warning: {summary.TensorBoardError}");

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
        var keys = configuration.Model switch
        {
            "gmm" => new[] { GaussianMixtureTask.PosteriorErrorKey, GaussianMixtureTask.PriorErrorKey },
            "gaussian-toy" => new[] { "gaussian_toy/mse_phi", "gaussian_toy/mse_mu" },
            _ => new[] { "test:loss/L_k", "train:loss/L_k" },
        };
        var png = Path.Combine(directory, "training-curve.png");
        TrainingCurvePlot.Write(Path.Combine(directory, MetricsLog.JsonlFile), png, keys, $"{configuration.Model}, {configuration.Estimator}, K = {configuration.Particles}, seed {configuration.Seed}",
                               logScale: !ImageTrainingTask.Models.Contains(configuration.Model));
        var figures = new[] { Ovis.Evaluation.ImageFigures.PriorSamplesFile, Ovis.Evaluation.ImageFigures.ReconstructionsFile }
            .Select(f => Path.Combine(directory, f)).Where(File.Exists).ToArray();
        Console.WriteLine($"wrote {Path.Combine(directory, MetricsLog.JsonlFile)}, {Path.Combine(directory, Trainer.SummaryFile)}, {string.Join(", ", figures.Prepend(png))}");
        return 0;
    }

    private static string Format(double? value) => value is double v ? v.ToString("G5", CultureInfo.InvariantCulture) : "-";
}
