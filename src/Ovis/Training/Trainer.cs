using System.Diagnostics;
using System.Globalization;
using Ovis.Estimators;
using Ovis.Evaluation;
using Ovis.Models;
using Ovis.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// The training loop of experiments.md §1.3–1.5. Per step, inside its own dispose scope: α(t) from the warm-up
/// schedule and lr(t) from the reduction schedule (t = the step before its increment), a mini-batch and K particles
/// from the run's single generator, the estimator's surrogate loss, backward, one Adam step per optimiser group.
/// Every <c>eval-every</c> steps (and at step 0 and at the end) it writes one record: the training diagnostics
/// averaged since the previous record, L_K at <c>eval-iw</c> particles and α = 0 on a fixed held-out batch with fixed
/// particle noise, the model's own metrics and, every <c>grad-every</c> steps, the φ-gradient SNR. Checkpoints are
/// atomic; a resumed run reproduces an uninterrupted one bit for bit.
/// </summary>
public sealed class Trainer : IDisposable
{
    /// <summary>File names inside the run directory.</summary>
    public const string ConfigurationFile = "config.json", SummaryFile = "summary.json";

    /// <summary>Held-out points evaluated per forward pass.</summary>
    public const int EvaluationChunk = 100;

    private const ulong HeldOutStream = 0x9E3779B97F4A7C15, TrainingSubsetStream = 0x2545F4914F6CDD1D, FinalStream = 0x5851F42D4C957F2D, EvaluationStream = 0xBF58476D1CE4E5B9, GradientStream = 0x94D049BB133111EB;

    private readonly TrainingConfiguration configuration;
    private readonly string directory;
    private readonly Device device;
    private readonly Generator generator;
    private readonly TrainingTask task;
    private readonly GradientEstimator estimator;
    private readonly GradientEstimator evaluator = new Reinforce();
    private readonly OptimizerSet optimizers = new();
    private readonly Tensor heldOut;            // [N_eval, ...]
    private readonly Tensor gradientBatch;      // [B_grad, ...]
    private readonly Tensor? trainingSubset;    // [N_train_eval, ...], deep models only
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> estimatorParameters;
    private readonly AlphaSchedule alphaSchedule;
    private readonly LearningRateSchedule learningRateSchedule;

    /// <summary>Set up a run: the model from the seed, the estimator, the optimisers and the fixed evaluation batches.</summary>
    public Trainer(TrainingConfiguration configuration, string directory)
    {
        configuration.Validate();
        this.configuration = configuration;
        this.directory = directory;
        device = OvisRuntime.ResolveDevice(configuration.Device);
        estimator = EstimatorRegistry.Create(configuration.Estimator);
        generator = new Generator(configuration.Seed);
        task = TrainingTasks.Create(configuration, generator, device);
        if (estimator.RequiresReparameterization && !task.Model.CanReparameterize)
            throw new NotSupportedException($"estimator '{estimator.Id}' needs reparameterised samples; model '{configuration.Model}' has discrete latents");
        optimizers.Add("model", task.Model.AllParameters(), configuration.LearningRate);
        estimatorParameters = estimator is IEstimatorWithParameters own ? own.EstimatorParameters() : Array.Empty<TorchSharp.Modules.Parameter>();
        optimizers.Add("estimator", estimatorParameters, configuration.LearningRate);
        using (var heldOutGenerator = new Generator(unchecked(configuration.Seed + HeldOutStream)))
            heldOut = task.HeldOutBatch(configuration.EvaluationBatchSize, heldOutGenerator);
        using (var gradientBatchGenerator = new Generator(unchecked(configuration.Seed + GradientStream)))
            gradientBatch = task.HeldOutBatch(configuration.GradientBatchSize, gradientBatchGenerator);
        if (task.UsesLikelihoodEvaluator && configuration.TrainEvaluationPoints > 0)
            using (var subsetGenerator = new Generator(unchecked(configuration.Seed + TrainingSubsetStream)))
                trainingSubset = task.TrainingSubset(configuration.TrainEvaluationPoints, subsetGenerator);
        alphaSchedule = configuration.AlphaSchedule;
        learningRateSchedule = configuration.LearningRateSchedule;
    }

    /// <summary>The task (model and data) being trained.</summary>
    public TrainingTask Task => task;

    /// <summary>
    /// Load the run's last checkpoint (model, optimisers, generator, data position) without training or writing
    /// anything, e.g. to evaluate a finished run; returns the step the checkpoint was taken at.
    /// </summary>
    public long LoadCheckpoint()
    {
        var path = Path.Combine(directory, Checkpoint.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} does not exist: the run has no checkpoint to evaluate", path);
        return ReadCheckpoint(path).Step;
    }

    /// <summary>Read the checkpoint at <paramref name="path"/> into this run's model, optimisers, generator and task.</summary>
    private CheckpointState ReadCheckpoint(string path)
        => Checkpoint.Read(path, task.Model, optimizers.Optimizers, generator, task, estimatorParameters);

    /// <summary>Where progress goes (null: nowhere).</summary>
    public ProgressReporter? Progress { get; init; }

    /// <summary>For tests: stop after this many steps of this session, as if killed (no final checkpoint).</summary>
    public long? StopAfterSteps { get; init; }

    /// <summary>
    /// Prefix of the training diagnostics averaged over the steps since the previous record: <c>train:</c> for the
    /// synthetic tasks; <c>batch:</c> for the deep models, whose <c>train:</c> keys hold L_K on the fixed training
    /// subset (the train L_5000 of Figure 3) while <c>batch:loss/ess</c> is the ESS at the training K.
    /// </summary>
    public string RunningPrefix => task.UsesLikelihoodEvaluator ? "batch:" : "train:";

    private static readonly string[] LikelihoodKeys = { DiagnosticKeys.Bound, DiagnosticKeys.Elbo, DiagnosticKeys.NegativeLogLikelihood,
                                                        DiagnosticKeys.Kl, DiagnosticKeys.KlPosterior, DiagnosticKeys.EffectiveSampleSize };

    /// <summary>The CSV columns: schedule values, training and test diagnostics, model metrics, gradient statistics.</summary>
    private IReadOnlyList<string> Columns()
    {
        var diagnostics = LikelihoodKeys;
        var columns = new List<string> { "alpha", "lr" };
        columns.AddRange(diagnostics.Select(k => RunningPrefix + k));
        columns.Add(RunningPrefix + DiagnosticKeys.ControlVariateMse);
        if (trainingSubset is not null) columns.AddRange(diagnostics.Select(k => "train:" + k));
        columns.AddRange(diagnostics.Select(k => "test:" + k));
        columns.AddRange(task.Metrics(heldOut).Keys);
        if (configuration.GradientEvery > 0)
            columns.AddRange(new[] { GradientSignalToNoise.Snr, GradientSignalToNoise.Variance, GradientSignalToNoise.Magnitude,
                                     GradientSignalToNoise.KeepRatio, GradientSignalToNoise.DirectionalSnr });
        return columns;
    }

    /// <summary>
    /// Train to <see cref="TrainingConfiguration.Steps"/>; with <paramref name="resume"/>, continue from the checkpoint
    /// in the run directory (or start afresh when there is none). Writes metrics, checkpoints and summary.json.
    /// </summary>
    public TrainingSummary Run(bool resume)
    {
        Directory.CreateDirectory(directory);
        var checkpointPath = Path.Combine(directory, Checkpoint.FileName);
        CheckpointState? state = null;
        if (resume && File.Exists(checkpointPath))
            state = ReadCheckpoint(checkpointPath);
        else
            File.WriteAllText(Path.Combine(directory, ConfigurationFile), configuration.ToJson());

        using var log = new MetricsLog(directory, Columns(), state?.Offsets);
        long step = state?.Step ?? 0;
        var sums = state?.TrainingSums ?? new Dictionary<string, double>();
        long count = state?.TrainingCount ?? 0;
        double elapsedBefore = state?.ElapsedSeconds ?? 0;
        var clock = Stopwatch.StartNew();
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        long sessionStart = step;
        string note = "";
        try
        {
            if (state is null) note = WriteRecord(log, 0, sums, ref count);
            Progress?.Report(step, note, force: true);
            while (step < configuration.Steps)
            {
                if (StopAfterSteps is long stop && step - sessionStart >= stop) return new TrainingSummary { Status = "stopped", Steps = step };
                TrainStep(step, sums);
                count++;
                step++;
                bool last = step == configuration.Steps;
                if (step % configuration.EvaluateEvery == 0 || last) note = WriteRecord(log, step, sums, ref count);
                if ((configuration.CheckpointEvery > 0 && step % configuration.CheckpointEvery == 0) || last)
                {
                    var offsets = log.Offsets();
                    Checkpoint.Write(checkpointPath, new CheckpointState
                    {
                        Step = step, Offsets = offsets, TrainingSums = new(sums), TrainingCount = count,
                        ElapsedSeconds = elapsedBefore + clock.Elapsed.TotalSeconds,
                    }, task.Model, optimizers.Optimizers, generator, task, estimatorParameters);
                }
                Progress?.Report(step, note, force: last);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Summary("failed", e.Message, step, elapsedBefore + clock.Elapsed.TotalSeconds, 0, log.TensorBoardError).Write(Path.Combine(directory, SummaryFile));
            throw;
        }
        double sessionSeconds = clock.Elapsed.TotalSeconds;
        double rate = sessionSeconds > 0 ? (step - sessionStart) / sessionSeconds : 0;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds;
        var finalEvaluation = FinalEvaluation();
        WriteImageFigures();
        var summary = Summary("completed", null, step, elapsedBefore + sessionSeconds, rate, log.TensorBoardError)
                      with { StepsPerCpuSecond = cpuSeconds > 0 ? (step - sessionStart) / cpuSeconds : 0, FinalEvaluation = finalEvaluation };
        summary.Write(Path.Combine(directory, SummaryFile));
        return summary;
    }

    private TrainingSummary Summary(string status, string? error, long step, double elapsed, double rate, string? tensorBoardError)
        => new TrainingSummary
        {
            Status = status, Error = error, Model = configuration.Model, Estimator = estimator.Id, Seed = configuration.Seed,
            Steps = step, ElapsedSeconds = elapsed, StepsPerSecond = rate, TensorBoardError = tensorBoardError,
        }.WithMetrics(TrainingSummary.ReadRecords(Path.Combine(directory, MetricsLog.JsonlFile)));

    /// <summary>One optimisation step at global step t (before its increment).</summary>
    private void TrainStep(long step, Dictionary<string, double> sums)
    {
        using var scope = NewDisposeScope();
        double alpha = alphaSchedule.At(step);
        optimizers.SetLearningRate(learningRateSchedule.At(step));
        var x = task.NextBatch(configuration.BatchSize, generator);                                 // [B, ...]
        var result = estimator.Compute(new EstimatorContext(configuration.SettingsAt(alpha), task.Model, x, generator));
        optimizers.ZeroGradients();
        result.Loss.backward();
        optimizers.Step();
        foreach (var (key, value) in result.Diagnostics)
        {
            var name = RunningPrefix + key;
            sums[name] = sums.GetValueOrDefault(name) + value.mean().ToDouble();
        }
    }

    /// <summary>Build and write the record of step t; returns a short note for the progress line.</summary>
    private string WriteRecord(MetricsLog log, long step, Dictionary<string, double> sums, ref long count)
    {
        double alpha = alphaSchedule.At(step);
        var record = new Dictionary<string, double> { ["alpha"] = alpha, ["lr"] = learningRateSchedule.At(step) };
        if (count > 0)
            foreach (var (key, sum) in sums) record[key] = sum / count;
        sums.Clear();
        count = 0;
        if (task.UsesLikelihoodEvaluator)
        {
            foreach (var (key, value) in EvaluateLikelihood(heldOut, configuration.EvaluationParticles, EvaluationStream)) record["test:" + key] = value;
            if (trainingSubset is not null)
                foreach (var (key, value) in EvaluateLikelihood(trainingSubset, configuration.EvaluationParticles, EvaluationStream + 1)) record["train:" + key] = value;
        }
        else
            foreach (var (key, value) in Evaluate()) record["test:" + key] = value;
        var metrics = task.Metrics(heldOut);
        foreach (var (key, value) in metrics) record[key] = value;
        if (configuration.GradientEvery > 0 && step % configuration.GradientEvery == 0)
            foreach (var (key, value) in MeasureGradients(alpha)) record[key] = value;
        log.Write(step, record);
        return string.Join(" ", new[] { ("L_K", record["test:" + DiagnosticKeys.Bound]) }
            .Concat(metrics.Select(m => (m.Key[(m.Key.IndexOf('/') + 1)..], m.Value)))
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Item1} {p.Item2:G4}")));
    }

    /// <summary>
    /// L_K at K = eval-iw and α = 0 with the other diagnostics of estimators.md §6, on the fixed held-out batch, with
    /// particle noise from a generator reset to the same seed at every evaluation (experiments.md §1.5, item 4).
    /// </summary>
    private Dictionary<string, double> Evaluate()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var evaluationGenerator = new Generator(unchecked(configuration.Seed + EvaluationStream));
        var settings = new EstimatorSettings(configuration.EvaluationParticles);
        var sums = new Dictionary<string, double>();
        long total = heldOut.shape[0];
        for (long start = 0; start < total; start += EvaluationChunk)
        {
            using var chunkScope = NewDisposeScope();
            long size = Math.Min(EvaluationChunk, total - start);
            var x = heldOut.narrow(0, start, size);
            var result = evaluator.Compute(new EstimatorContext(settings, task.Model, x, evaluationGenerator));
            foreach (var (key, value) in result.Diagnostics)
                if (key != DiagnosticKeys.ControlVariateMse) sums[key] = sums.GetValueOrDefault(key) + value.sum().ToDouble();
        }
        return sums.ToDictionary(p => p.Key, p => p.Value / total);
    }

    /// <summary>
    /// The deep models' evaluation (experiments.md §1.5 items 4–5): L_K at K = <paramref name="particles"/> and α = 0
    /// on <paramref name="data"/> with the chunked <see cref="LikelihoodEvaluator"/> (eval-chunk particles per pass),
    /// the ELBO, KL(q‖p(z|x)) = L_K − ELBO, the ESS and the NLL from the same particles; the particle noise comes from
    /// a generator reset to the same seed at every evaluation.
    /// </summary>
    private Dictionary<string, double> EvaluateLikelihood(Tensor data, int particles, ulong stream)
    {
        using var scope = NewDisposeScope();
        using var evaluationGenerator = new Generator(unchecked(configuration.Seed + stream));
        var evaluator = new LikelihoodEvaluator(particles, configuration.EvaluationChunk, batchSize: 10);
        var estimate = evaluator.Evaluate(task.Model, data, evaluationGenerator);
        return new Dictionary<string, double>
        {
            [DiagnosticKeys.Bound] = estimate.MeanBound,
            [DiagnosticKeys.Elbo] = estimate.MeanElbo,
            [DiagnosticKeys.NegativeLogLikelihood] = estimate.NegativeLogLikelihood.Average(),
            [DiagnosticKeys.Kl] = estimate.MeanPriorDivergence,
            [DiagnosticKeys.KlPosterior] = estimate.MeanPosteriorDivergence,
            [DiagnosticKeys.EffectiveSampleSize] = estimate.MeanEffectiveSampleSize,
        };
    }

    /// <summary>
    /// The final test evaluation of a deep model for summary.json (experiments.md §1.5 item 5, K_test = 5000 in the
    /// paper): L_K at final-eval-iw particles on final-eval-points fixed test points, with its standard error over
    /// the points. Null for the synthetic tasks or when final-eval-iw is 0.
    /// </summary>
    private Dictionary<string, double>? FinalEvaluation()
    {
        if (!task.UsesLikelihoodEvaluator || configuration.FinalEvaluationParticles == 0) return null;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor points;
        using (var pointsGenerator = new Generator(unchecked(configuration.Seed + FinalStream)))
            points = task.HeldOutBatch(configuration.FinalEvaluationPoints, pointsGenerator);
        using var evaluationGenerator = new Generator(unchecked(configuration.Seed + FinalStream + 1));
        var evaluator = new LikelihoodEvaluator(configuration.FinalEvaluationParticles, configuration.EvaluationChunk, batchSize: 10);
        var estimate = evaluator.Evaluate(task.Model, points, evaluationGenerator);
        return new Dictionary<string, double>
        {
            ["particles"] = estimate.Particles,
            ["points"] = estimate.Count,
            ["test:" + DiagnosticKeys.Bound] = estimate.MeanBound,
            ["test:" + DiagnosticKeys.Bound + "_stderr"] = estimate.BoundStandardError,
            ["test:" + DiagnosticKeys.Elbo] = estimate.MeanElbo,
            ["test:" + DiagnosticKeys.KlPosterior] = estimate.MeanPosteriorDivergence,
            ["test:" + DiagnosticKeys.EffectiveSampleSize] = estimate.MeanEffectiveSampleSize,
        };
    }

    /// <summary>
    /// For an image model (SBN, Gaussian VAE): prior-samples.png (64 draws of E[x | z], z ~ p(z)) and
    /// reconstructions.png (16 fixed test images above E[x | z], z ~ q(z | x)) in the run directory, from generators
    /// fixed by the seed, so a resumed run draws the same figures.
    /// </summary>
    private void WriteImageFigures()
    {
        if (!task.UsesLikelihoodEvaluator || task.Model is not IBernoulliImageModel imageModel) return;
        using var scope = NewDisposeScope();
        using (var priorGenerator = new Generator(unchecked(configuration.Seed + FinalStream + 2)))
            ImageFigures.WritePriorSamples(imageModel, Path.Combine(directory, ImageFigures.PriorSamplesFile), generator: priorGenerator);
        using var pointsGenerator = new Generator(unchecked(configuration.Seed + FinalStream + 3));
        var images = task.HeldOutBatch(16, pointsGenerator);
        ImageFigures.WriteReconstructions(task.Model, images, Path.Combine(directory, ImageFigures.ReconstructionsFile), pointsGenerator);
    }

    /// <summary>
    /// The φ-gradient statistics of the training estimator at the current α (experiments.md §1.5, item 2): N draws on
    /// the fixed gradient batch, with a generator reset to the same seed at every measurement.
    /// </summary>
    private IReadOnlyDictionary<string, double> MeasureGradients(double alpha)
    {
        using var gradientGenerator = new Generator(unchecked(configuration.Seed + GradientStream + 1));
        var settings = configuration.SettingsAt(alpha);
        return GradientSignalToNoise.Measure(
            () => estimator.Compute(new EstimatorContext(settings, task.Model, gradientBatch, gradientGenerator, Diagnostics: false)).Loss,
            task.Model.InferenceParameters(), configuration.GradientSamples, configuration.GradientEpsilon);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        optimizers.Dispose();
        task.Dispose();
        heldOut.Dispose();
        gradientBatch.Dispose();
        trainingSubset?.Dispose();
        generator.Dispose();
    }
}
