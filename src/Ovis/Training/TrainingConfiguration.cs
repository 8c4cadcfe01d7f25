using System.Text.Json;
using System.Text.Json.Serialization;
using Ovis.Estimators;

namespace Ovis.Training;

/// <summary>
/// Everything that defines a training run (experiments.md §1.3): model, estimator, sizes, optimiser, schedules,
/// evaluation, gradient analysis and checkpointing. Written to <c>DIR/config.json</c> at the start of a run and read
/// back by <c>--resume</c>, so a resumed run continues with exactly the same settings.
/// </summary>
public sealed record TrainingConfiguration
{
    /// <summary>The model (<c>gmm</c>, <c>gaussian-toy</c>).</summary>
    public string Model { get; init; } = "gmm";
    /// <summary>The estimator id (see <see cref="EstimatorRegistry"/>).</summary>
    public string Estimator { get; init; } = "ovis-gamma1";
    /// <summary>K, particles of the training bound.</summary>
    public int Particles { get; init; } = 20;
    /// <summary>M, outer samples.</summary>
    public int OuterSamples { get; init; } = 1;
    /// <summary>Training steps.</summary>
    public long Steps { get; init; } = 3000;
    /// <summary>Mini-batch size B.</summary>
    public int BatchSize { get; init; } = 100;
    /// <summary>Adam learning rate (β1 = 0.9, β2 = 0.999, ε = 1e−8).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Steps at which the learning rate is multiplied by <see cref="LearningRateFactor"/>.</summary>
    public long[] LearningRateReductions { get; init; } = Array.Empty<long>();
    /// <summary>The learning-rate reduction factor.</summary>
    public double LearningRateFactor { get; init; } = 0.1;
    /// <summary>α_end (constant α without warm-up).</summary>
    public double Alpha { get; init; }
    /// <summary>α_init of the warm-up.</summary>
    public double AlphaInit { get; init; } = 0.9;
    /// <summary>Warm-up period T in steps (0: none).</summary>
    public long Warmup { get; init; }
    /// <summary>Warm-up interpolation.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter))]
    public WarmupMode WarmupMode { get; init; } = WarmupMode.Log;
    /// <summary>The run's seed (model initialisation, data and particles).</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Evaluate every this many steps (and at step 0 and at the end).</summary>
    public long EvaluateEvery { get; init; } = 500;
    /// <summary>K of the evaluation bound L_K (α = 0).</summary>
    public int EvaluationParticles { get; init; } = 100;
    /// <summary>Held-out points of the evaluation batch.</summary>
    public int EvaluationBatchSize { get; init; } = 1000;
    /// <summary>Write a checkpoint every this many steps (and at the end); 0 only at the end.</summary>
    public long CheckpointEvery { get; init; } = 2000;
    /// <summary>Gradient SNR every this many steps (a multiple of <see cref="EvaluateEvery"/>); 0 disables it.</summary>
    public long GradientEvery { get; init; } = 2000;
    /// <summary>N, gradient draws per SNR measurement.</summary>
    public int GradientSamples { get; init; } = 100;
    /// <summary>Data points of the gradient-analysis batch.</summary>
    public int GradientBatchSize { get; init; } = 100;
    /// <summary>ε of the SNR: variance threshold and standard-deviation floor (estimators.md §7.3).</summary>
    public double GradientEpsilon { get; init; } = 1e-9;
    /// <summary>The image data set of the deep models (<c>mnist</c>, <c>fashion-mnist</c>, <c>binarized-mnist</c>; ignored by gmm and gaussian-toy).</summary>
    public string Dataset { get; init; } = "mnist";
    /// <summary>The data folder searched first (--data-dir), or null for OVIS_DATA_DIR, the cache and ../shared/data.</summary>
    public string? DataDirectory { get; init; }
    /// <summary>Binarisation: <c>default</c> (dynamic for MNIST, threshold ≥ 128 for Fashion), <c>dynamic</c>, <c>static</c>, <c>threshold</c>.</summary>
    public string Binarization { get; init; } = "default";
    /// <summary>Layer sizes of the deep model: the SBN's stochastic layers (default 200,200,200), the VAE's N,H (default 200,200).</summary>
    public int[] Layers { get; init; } = Array.Empty<int>();
    /// <summary>Particles per forward pass of the chunked L_K evaluation of the deep models.</summary>
    public int EvaluationChunk { get; init; } = 500;
    /// <summary>Points of the fixed training subset evaluated with L_K (deep models; 0: none).</summary>
    public int TrainEvaluationPoints { get; init; } = 1000;
    /// <summary>K of the final test evaluation written to summary.json (deep models; 0: none).</summary>
    public int FinalEvaluationParticles { get; init; } = 5000;
    /// <summary>Test points of the final evaluation.</summary>
    public int FinalEvaluationPoints { get; init; } = 500;
    /// <summary>Device name (<c>cpu</c>).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>The estimator settings at a given α.</summary>
    public EstimatorSettings SettingsAt(double alpha) => new(Particles, OuterSamples, alpha);

    /// <summary>The α schedule.</summary>
    public AlphaSchedule AlphaSchedule => new(Alpha, AlphaInit, Warmup, WarmupMode);

    /// <summary>The learning-rate schedule.</summary>
    public LearningRateSchedule LearningRateSchedule => new(LearningRate, LearningRateReductions, LearningRateFactor);

    /// <summary>Check every value, with a message naming the option and what would be right.</summary>
    public void Validate()
    {
        TrainingTasks.CheckName(Model);
        if (Particles < 1) throw new ArgumentException($"--iw (K) must be at least 1, got {Particles}");
        EstimatorRegistry.Create(Estimator).ValidateParticles(Particles);
        if (OuterSamples < 1) throw new ArgumentException($"--mc (M) must be at least 1, got {OuterSamples}");
        if (Steps < 1) throw new ArgumentException($"--steps must be at least 1, got {Steps}");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size must be at least 1, got {BatchSize}");
        LearningRateSchedule.Validate();
        AlphaSchedule.Validate();
        if (EvaluateEvery < 1) throw new ArgumentException($"--eval-every must be at least 1, got {EvaluateEvery}");
        if (EvaluationParticles < 1) throw new ArgumentException($"--eval-iw must be at least 1, got {EvaluationParticles}");
        if (EvaluationBatchSize < 1) throw new ArgumentException($"--eval-batch-size must be at least 1, got {EvaluationBatchSize}");
        if (CheckpointEvery < 0) throw new ArgumentException($"--checkpoint-every must be 0 (only at the end) or positive, got {CheckpointEvery}");
        if (GradientEvery < 0) throw new ArgumentException($"--grad-every must be 0 (off) or positive, got {GradientEvery}");
        if (GradientEvery > 0 && GradientEvery % EvaluateEvery != 0)
            throw new ArgumentException($"--grad-every ({GradientEvery}) must be a multiple of --eval-every ({EvaluateEvery}): gradient statistics are written with an evaluation");
        if (GradientEvery > 0 && GradientSamples < 2) throw new ArgumentException($"--grad-samples must be at least 2 (an unbiased variance), got {GradientSamples}");
        if (ImageTrainingTask.Models.Contains(Model))
        {
            TrainingData.ParseBinarization(Binarization, TrainingData.Spec(Dataset));
            if (Model == "sbn" && EstimatorRegistry.Create(Estimator).RequiresReparameterization)
                throw new ArgumentException($"estimator '{Estimator}' needs reparameterised samples; the sbn has discrete latents (use a score-function estimator)");
            if (Layers.Any(l => l < 1)) throw new ArgumentException($"--layers must be positive sizes, got {string.Join(",", Layers)}");
            if (EvaluationChunk < 1) throw new ArgumentException($"--eval-chunk must be at least 1, got {EvaluationChunk}");
            if (TrainEvaluationPoints < 0) throw new ArgumentException($"--train-eval-points must be 0 (none) or positive, got {TrainEvaluationPoints}");
            if (FinalEvaluationParticles < 0) throw new ArgumentException($"--final-eval-iw must be 0 (none) or positive, got {FinalEvaluationParticles}");
            if (FinalEvaluationPoints < 1) throw new ArgumentException($"--final-eval-points must be at least 1, got {FinalEvaluationPoints}");
        }
        if (GradientBatchSize < 1) throw new ArgumentException($"--grad-batch-size must be at least 1, got {GradientBatchSize}");
        if (!(GradientEpsilon > 0)) throw new ArgumentException($"the gradient ε must be positive, got {GradientEpsilon}");
    }

    /// <summary>JSON options used for config.json.</summary>
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Serialise to JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Read from JSON.</summary>
    public static TrainingConfiguration FromJson(string json)
        => JsonSerializer.Deserialize<TrainingConfiguration>(json, Json) ?? throw new InvalidDataException("config.json is empty");
}
