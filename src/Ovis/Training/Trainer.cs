using System.Diagnostics;
using System.Globalization;
using Ovis.Estimators;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// Trains any <see cref="Models.LatentVariableModel"/> on any <see cref="ITrainingData"/> with any
/// <see cref="GradientEstimator"/> (docs/experiments.md §1.3–1.5). Per step: α(t) from the warm-up schedule and the
/// learning rates from the reduction schedule (t = the step before its increment), a mini-batch and K particles from
/// the run's single generator, the estimator's surrogate loss, backward, one Adam step per optimiser group (the
/// model's θ and φ; an estimator's own parameters, <see cref="IEstimatorWithParameters"/>). Every eval-every steps
/// (and at step 0 and at the end) it writes one record to metrics.jsonl, metrics.csv and TensorBoard: the training
/// diagnostics averaged since the previous record, L_K on fixed held-out points (and a fixed training subset), the
/// task's own metrics and, every grad-every steps, the φ-gradient SNR. Checkpoints are atomic and record the
/// settings they belong to; a resumed run reproduces an uninterrupted one bit for bit. A non-finite loss, log-weight
/// or parameter ends the run with status <c>diverged</c>.
/// </summary>
public sealed class Trainer : IDisposable
{
    /// <summary>File names inside the run directory.</summary>
    public const string ConfigurationFile = "config.json", SummaryFile = "summary.json";

    /// <summary>The checkpoint's file name inside the run directory.</summary>
    public const string CheckpointFile = Checkpoint.FileName;

    /// <summary>The metrics files inside the run directory: one JSON record per evaluation (<c>{"step": n, "metrics": {...}}</c>), the same as CSV, and the TensorBoard event folder.</summary>
    public const string MetricsFile = MetricsLog.JsonlFile, MetricsCsvFile = MetricsLog.CsvFile, TensorBoardFolder = MetricsLog.TensorBoardFolder;

    private readonly TrainingTask task;
    private readonly GradientEstimator estimator;
    private readonly TrainerSettings settings;
    private readonly string directory;
    private readonly Generator generator;
    private readonly OptimizerSet optimizers = new();
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> estimatorParameters;
    private readonly HeldOutEvaluation evaluation;
    private readonly GradientProbe probe;
    private readonly TrainingStep trainingStep;

    /// <summary>
    /// Set up a run of <paramref name="task"/> with <paramref name="estimator"/> under <paramref name="settings"/>,
    /// writing to <paramref name="directory"/>: the optimisers, the estimator's own parameters (built from the seed),
    /// and the fixed evaluation batches. The task stays the caller's (the trainer never disposes it).
    /// </summary>
    public Trainer(TrainingTask task, GradientEstimator estimator, TrainerSettings settings, string directory)
    {
        settings.Validate();
        estimator.ValidateParticles(settings.Particles);
        estimator.CheckModel(task.Model.CanReparameterize, task.Name);
        this.task = task;
        this.estimator = estimator;
        this.settings = settings;
        this.directory = directory;
        generator = new Generator(settings.Seed);
        optimizers.Add("model", task.Model.AllParameters(), settings.LearningRate);
        evaluation = new HeldOutEvaluation(task, settings);
        estimatorParameters = Array.Empty<TorchSharp.Modules.Parameter>();
        if (estimator is IEstimatorWithParameters owner)
        {
            using var initialization = RandomStreams.Create(settings.Seed, RandomStreams.EstimatorInitialization);
            using var example = evaluation.HeldOut.narrow(0, 0, Math.Min(settings.BatchSize, evaluation.HeldOut.shape[0]));
            estimatorParameters = owner.InitializeParameters(example, initialization);
            optimizers.Add("estimator", estimatorParameters, owner.ParameterLearningRate);
        }
        probe = new GradientProbe(task, estimator, settings);
        if (settings.ParticleChunk > 0 && settings.ParticleChunk < settings.OuterSamples * estimator.ParticlesPerDraw(settings.Particles))
            ChunkedGradient.Check(estimator, new EstimatorContext(settings.SettingsAt(settings.Alpha), task.Model, evaluation.HeldOut, generator));
        trainingStep = new TrainingStep(task, estimator, optimizers, settings.ParticleChunk);
    }

    /// <summary>The task (model and data) being trained.</summary>
    public TrainingTask Task => task;

    /// <summary>The estimator.</summary>
    public GradientEstimator Estimator => estimator;

    /// <summary>The settings of the run.</summary>
    public TrainerSettings Settings => settings;

    /// <summary>The parameters the estimator owns (empty for most estimators).</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> EstimatorParameters => estimatorParameters;

    /// <summary>Where progress goes (null: nowhere).</summary>
    public ProgressReporter? Progress { get; set; }

    /// <summary>For tests: stop after this many steps of this session, as if killed (no final checkpoint).</summary>
    public long? StopAfterSteps { get; set; }

    /// <summary>
    /// A request to stop: checked at every step boundary; when set, the trainer writes a checkpoint and returns a
    /// summary with status <c>stopped</c> (a preempted or cancelled run that <c>--resume</c> continues exactly).
    /// </summary>
    public CancellationToken StopRequest { get; set; }

    /// <summary>
    /// Prefix of the training diagnostics averaged over the steps since the previous record: <c>batch:</c> for data
    /// with a training split, whose <c>train:</c> keys hold L_K on the fixed training subset (the train L_5000 of
    /// Figure 3); <c>train:</c> for synthetic streams.
    /// </summary>
    public string RunningPrefix => task.Data.HasTrainingSplit ? "batch:" : "train:";

    private string CheckpointPath => Path.Combine(directory, Checkpoint.FileName);

    /// <summary>
    /// Load the run's last checkpoint (model, optimisers, generator, data position) without training or writing
    /// anything, e.g. to evaluate a finished run; returns the step the checkpoint was taken at.
    /// </summary>
    public long LoadCheckpoint()
    {
        if (!File.Exists(CheckpointPath)) throw new FileNotFoundException($"{CheckpointPath} does not exist: the run has no checkpoint", CheckpointPath);
        return ReadCheckpoint().Step;
    }

    /// <summary>
    /// The step the run's checkpoint was taken at, after checking that it exists, is intact at its start and belongs
    /// to this run (settings, model, estimator): what a resume would continue from. Throws with a clear message
    /// otherwise.
    /// </summary>
    public long ResumableStep()
    {
        RequireCheckpointToResume();
        var header = Checkpoint.ReadState(CheckpointPath);
        Checkpoint.CheckBelongsTo(header, CheckpointPath, settings, task.Name, estimator.Id);
        return header.Step;
    }

    private void RequireCheckpointToResume()
    {
        if (!File.Exists(CheckpointPath))
            throw new FileNotFoundException($"--resume: {CheckpointPath} does not exist, so there is nothing to resume; start the run without --resume", CheckpointPath);
    }

    private CheckpointState ReadCheckpoint()
    {
        var header = Checkpoint.ReadState(CheckpointPath);
        Checkpoint.CheckBelongsTo(header, CheckpointPath, settings, task.Name, estimator.Id);
        return Checkpoint.Read(CheckpointPath, new CheckpointContents(task.Model, optimizers.Optimizers, generator, task.Data, estimatorParameters));
    }

    /// <summary>The CSV columns: schedule values, training and held-out diagnostics, task metrics, gradient statistics.</summary>
    private IReadOnlyList<string> Columns()
    {
        var columns = new List<string> { "alpha", "lr" };
        columns.AddRange(HeldOutEvaluation.Keys.Select(k => RunningPrefix + k));
        columns.Add(RunningPrefix + DiagnosticKeys.ControlVariateMse);
        if (evaluation.EvaluatesTrainingSubset) columns.AddRange(HeldOutEvaluation.Keys.Select(k => "train:" + k));
        columns.AddRange(HeldOutEvaluation.Keys.Select(k => "test:" + k));
        columns.AddRange(task.MeasureMetrics(evaluation.HeldOut).Keys);
        if (settings.GradientEvery > 0)
            columns.AddRange(new[] { GradientSignalToNoise.Snr, GradientSignalToNoise.Variance, GradientSignalToNoise.Magnitude,
                                     GradientSignalToNoise.KeepRatio, GradientSignalToNoise.DirectionalSnr });
        return columns;
    }

    /// <summary>
    /// Train to <see cref="TrainerSettings.Steps"/>. With <paramref name="resume"/>, continue from the checkpoint in the
    /// run directory, which must belong to these settings, model and estimator (a directory without one is refused).
    /// Writes config.json, metrics, checkpoints and summary.json; returns the summary, whose status is
    /// <c>completed</c>, <c>stopped</c> (a stop request) or <c>diverged</c>. Other failures are written to
    /// summary.json as <c>failed</c> and rethrown.
    /// </summary>
    public TrainingSummary Run(bool resume)
    {
        Directory.CreateDirectory(directory);
        CheckpointState? state = null;
        if (resume)
        {
            RequireCheckpointToResume();
            state = ReadCheckpoint();                                                          // checks that it belongs to this run
        }
        else
        {
            if (File.Exists(CheckpointPath))
                throw new InvalidOperationException($"{directory} already holds a run; resume it or choose another directory");
            File.WriteAllText(Path.Combine(directory, ConfigurationFile), settings.ToJson());
        }

        using var log = new MetricsLog(directory, Columns(), state?.Offsets);
        long step = state?.Step ?? 0;
        var sums = state?.TrainingSums ?? new Dictionary<string, double>();
        long count = state?.TrainingCount ?? 0;
        double elapsedBefore = state?.ElapsedSeconds ?? 0;
        var clock = Stopwatch.StartNew();
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        long sessionStart = step;
        string note = "";
        double Elapsed() => elapsedBefore + clock.Elapsed.TotalSeconds;
        try
        {
            if (state is null) note = WriteRecord(log, 0, sums, ref count);
            Progress?.Report(step, note, force: true);
            while (step < settings.Steps)
            {
                if (StopAfterSteps is long stop && step - sessionStart >= stop) return new TrainingSummary { Status = TrainingStatus.Stopped, Steps = step };
                if (StopRequest.IsCancellationRequested)
                {
                    WriteCheckpoint(log, step, sums, count, Elapsed());
                    var stopped = Summary(TrainingStatus.Stopped, "stopped on request; --resume continues it", step, Elapsed(), log.TensorBoardError);
                    stopped.Write(Path.Combine(directory, SummaryFile));
                    return stopped;
                }
                TakeStep(step, sums);
                count++;
                step++;
                bool last = step == settings.Steps;
                if (step % settings.EvaluateEvery == 0 || last)
                {
                    trainingStep.CheckParameters(step);
                    note = WriteRecord(log, step, sums, ref count);
                }
                if ((settings.CheckpointEvery > 0 && step % settings.CheckpointEvery == 0) || last)
                {
                    trainingStep.CheckParameters(step);
                    WriteCheckpoint(log, step, sums, count, Elapsed());
                }
                Progress?.Report(step, note, force: last);
            }
        }
        catch (TrainingDivergedException e)
        {
            var diverged = Summary(TrainingStatus.Diverged, e.Message, step, Elapsed(), log.TensorBoardError);
            diverged.Write(Path.Combine(directory, SummaryFile));
            return diverged;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Summary(TrainingStatus.Failed, e.Message, step, Elapsed(), log.TensorBoardError).Write(Path.Combine(directory, SummaryFile));
            throw;
        }
        double sessionSeconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds;
        Dictionary<string, double>? finalEvaluation;
        try
        {
            finalEvaluation = evaluation.Final();
            if (finalEvaluation is not null && finalEvaluation.Values.Any(v => !double.IsFinite(v)))
                throw new TrainingDivergedException(step, "the final evaluation's L_K");
        }
        catch (TrainingDivergedException e)
        {
            var diverged = Summary(TrainingStatus.Diverged, e.Message, step, elapsedBefore + clock.Elapsed.TotalSeconds, log.TensorBoardError);
            diverged.Write(Path.Combine(directory, SummaryFile));
            return diverged;
        }
        var summary = Summary(TrainingStatus.Completed, null, step, elapsedBefore + sessionSeconds, log.TensorBoardError) with
        {
            StepsPerSecond = sessionSeconds > 0 ? (step - sessionStart) / sessionSeconds : 0,
            StepsPerCpuSecond = cpuSeconds > 0 ? (step - sessionStart) / cpuSeconds : 0,
            FinalEvaluation = finalEvaluation,
        };
        summary.Write(Path.Combine(directory, SummaryFile));
        return summary;
    }

    private void TakeStep(long step, Dictionary<string, double> sums)
    {
        using var scope = NewDisposeScope();
        optimizers.ScaleLearningRates(settings.LearningRateSchedule.At(step) / settings.LearningRate);
        var x = task.Data.NextBatch(settings.BatchSize, generator);                                 // [B, ...]
        trainingStep.Take(step, x, settings.SettingsAt(settings.AlphaSchedule.At(step)), generator, sums, RunningPrefix);
    }

    private void WriteCheckpoint(MetricsLog log, long step, Dictionary<string, double> sums, long count, double elapsed)
        => Checkpoint.Write(CheckpointPath, new CheckpointState
        {
            SettingsHash = settings.ContentHash(), Settings = settings.DefiningJson(), Model = task.Name, Estimator = estimator.Id,
            Step = step, Offsets = log.Offsets(), TrainingSums = new(sums), TrainingCount = count, ElapsedSeconds = elapsed,
        }, new CheckpointContents(task.Model, optimizers.Optimizers, generator, task.Data, estimatorParameters));

    private TrainingSummary Summary(string status, string? error, long step, double elapsed, string? tensorBoardError)
        => new TrainingSummary
        {
            Status = status, Error = error, Model = task.Name, Estimator = estimator.Id, Seed = settings.Seed,
            Steps = step, ElapsedSeconds = elapsed, TensorBoardError = tensorBoardError,
        }.WithMetrics(TrainingSummary.ReadRecords(Path.Combine(directory, MetricsLog.JsonlFile)));

    /// <summary>Build and write the record of step t; returns a short note for the progress line.</summary>
    private string WriteRecord(MetricsLog log, long step, Dictionary<string, double> sums, ref long count)
    {
        double alpha = settings.AlphaSchedule.At(step);
        var record = new Dictionary<string, double> { ["alpha"] = alpha, ["lr"] = settings.LearningRateSchedule.At(step) };
        if (count > 0)
            foreach (var (key, sum) in sums) record[key] = sum / count;
        sums.Clear();
        count = 0;
        foreach (var (key, value) in evaluation.Evaluate()) record[key] = value;
        if (!double.IsFinite(record["test:" + DiagnosticKeys.Bound])) throw new TrainingDivergedException(step, "the held-out L_K");
        var metrics = task.MeasureMetrics(evaluation.HeldOut);
        foreach (var (key, value) in metrics) record[key] = value;
        if (probe.IsDue(step))
            foreach (var (key, value) in probe.Measure(alpha)) record[key] = value;
        log.Write(step, record);
        return string.Join(" ", new[] { ("L_K", record["test:" + DiagnosticKeys.Bound]) }
            .Concat(metrics.Select(m => (m.Key[(m.Key.IndexOf('/') + 1)..], m.Value)))
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Item1} {p.Item2:G4}")));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        optimizers.Dispose();
        evaluation.Dispose();
        probe.Dispose();
        generator.Dispose();
    }
}
