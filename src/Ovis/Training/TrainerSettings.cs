using System.Text.Json;
using System.Text.Json.Serialization;
using Ovis.Estimators;

namespace Ovis.Training;

/// <summary>
/// The settings of the training loop itself (docs/experiments.md §1.3–1.5), independent of which model is trained:
/// K and M of the training bound, steps, batch size, Adam's learning rate and its reductions, the Rényi α schedule,
/// the seed, evaluation, gradient analysis and checkpointing. A library user passes these with a model and a data
/// source to <see cref="Trainer"/>; <see cref="TrainingConfiguration"/> adds the names the command line builds a
/// model from. Serialised to <c>config.json</c>; its <see cref="ContentHash"/> ties checkpoints to it.
/// </summary>
public record TrainerSettings
{
    /// <summary>K, particles of the training bound.</summary>
    public int Particles { get; init; } = 20;
    /// <summary>M, outer samples.</summary>
    public int OuterSamples { get; init; } = 1;
    /// <summary>Training steps.</summary>
    public long Steps { get; init; } = 3000;
    /// <summary>Mini-batch size B.</summary>
    public int BatchSize { get; init; } = 100;
    /// <summary>
    /// C, particles per chunk of a training step (0: all at once). With C below the M·K particles a step draws, they
    /// are processed C at a time (<see cref="Estimators.ChunkedGradient"/>): memory grows with B·C instead of B·K and
    /// the gradient is the unchunked one to float rounding, at the cost of a second forward pass.
    /// </summary>
    public int ParticleChunk { get; init; }

    /// <summary>Adam learning rate of the model's θ and φ (β1 = 0.9, β2 = 0.999, ε = 1e−8).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Steps at which every learning rate is multiplied by <see cref="LearningRateFactor"/>.</summary>
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
    /// <summary>The run's seed, all 64 bits used (model initialisation, data and particles).</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Evaluate every this many steps (and at step 0 and at the end).</summary>
    public long EvaluateEvery { get; init; } = 500;
    /// <summary>K of the evaluation bound L_K (α = 0).</summary>
    public int EvaluationParticles { get; init; } = 100;
    /// <summary>Held-out points of the evaluation batch.</summary>
    public int EvaluationBatchSize { get; init; } = 1000;
    /// <summary>Particles per forward pass of the chunked L_K evaluation.</summary>
    public int EvaluationChunk { get; init; } = 500;
    /// <summary>Held-out points per forward pass of the L_K evaluation (memory grows with this times the chunk).</summary>
    public int EvaluationPointsPerPass { get; init; } = 10;
    /// <summary>Points of the fixed training subset evaluated with L_K, for data with a training split (0: none).</summary>
    public int TrainEvaluationPoints { get; init; } = 1000;
    /// <summary>K of the final test evaluation written to summary.json (0: none).</summary>
    public int FinalEvaluationParticles { get; init; } = 5000;
    /// <summary>Test points of the final evaluation.</summary>
    public int FinalEvaluationPoints { get; init; } = 500;
    /// <summary>Write a checkpoint every this many steps (and at the end); 0 only at the end.</summary>
    public long CheckpointEvery { get; init; } = 2000;
    /// <summary>Gradient SNR every this many steps (a multiple of <see cref="EvaluateEvery"/>); 0 disables it.</summary>
    public long GradientEvery { get; init; } = 2000;
    /// <summary>N, gradient draws per SNR measurement.</summary>
    public int GradientSamples { get; init; } = 100;
    /// <summary>Data points of the gradient-analysis batch.</summary>
    public int GradientBatchSize { get; init; } = 100;
    /// <summary>ε of the SNR: variance threshold and standard-deviation floor (docs/estimators.md §7.3).</summary>
    public double GradientEpsilon { get; init; } = 1e-9;

    /// <summary>The estimator settings at a given α.</summary>
    public EstimatorSettings SettingsAt(double alpha) => new(Particles, OuterSamples, alpha);

    /// <summary>The α schedule.</summary>
    [JsonIgnore]
    public AlphaSchedule AlphaSchedule => new(Alpha, AlphaInit, Warmup, WarmupMode);

    /// <summary>The learning-rate schedule.</summary>
    [JsonIgnore]
    public LearningRateSchedule LearningRateSchedule => new(LearningRate, LearningRateReductions, LearningRateFactor);

    /// <summary>Check every value of the loop's settings, with a message naming the option and what would be right.</summary>
    public virtual void Validate()
    {
        if (Particles < 1) throw new ArgumentException($"--iw (K) must be at least 1, got {Particles}");
        RandomStreams.CheckSeed(Seed);
        if (OuterSamples < 1) throw new ArgumentException($"--mc (M) must be at least 1, got {OuterSamples}");
        if (Steps < 1) throw new ArgumentException($"--steps must be at least 1, got {Steps}");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size must be at least 1, got {BatchSize}");
        if (ParticleChunk < 0) throw new ArgumentException($"--particle-chunk must be 0 (off) or positive, got {ParticleChunk}");
        LearningRateSchedule.Validate();
        AlphaSchedule.Validate();
        if (EvaluateEvery < 1) throw new ArgumentException($"--eval-every must be at least 1, got {EvaluateEvery}");
        if (EvaluationParticles < 1) throw new ArgumentException($"--eval-iw must be at least 1, got {EvaluationParticles}");
        if (EvaluationBatchSize < 1) throw new ArgumentException($"--eval-points must be at least 1, got {EvaluationBatchSize}");
        if (EvaluationChunk < 1) throw new ArgumentException($"--eval-chunk must be at least 1, got {EvaluationChunk}");
        if (EvaluationPointsPerPass < 1) throw new ArgumentException($"the evaluation's points per pass must be at least 1, got {EvaluationPointsPerPass}");
        if (TrainEvaluationPoints < 0) throw new ArgumentException($"--train-eval-points must be 0 (none) or positive, got {TrainEvaluationPoints}");
        if (FinalEvaluationParticles < 0) throw new ArgumentException($"--final-eval-iw must be 0 (none) or positive, got {FinalEvaluationParticles}");
        if (FinalEvaluationPoints < 1) throw new ArgumentException($"--final-eval-points must be at least 1, got {FinalEvaluationPoints}");
        if (CheckpointEvery < 0) throw new ArgumentException($"--checkpoint-every must be 0 (only at the end) or positive, got {CheckpointEvery}");
        if (GradientEvery < 0) throw new ArgumentException($"--grad-every must be 0 (off) or positive, got {GradientEvery}");
        if (GradientEvery > 0 && GradientEvery % EvaluateEvery != 0)
            throw new ArgumentException($"--grad-every ({GradientEvery}) must be a multiple of --eval-every ({EvaluateEvery}): gradient statistics are written with an evaluation");
        if (GradientEvery > 0 && GradientSamples < 2) throw new ArgumentException($"--grad-samples must be at least 2 (an unbiased variance), got {GradientSamples}");
        if (GradientBatchSize < 1) throw new ArgumentException($"--grad-batch-size must be at least 1, got {GradientBatchSize}");
        if (!(GradientEpsilon > 0)) throw new ArgumentException($"the gradient ε must be positive, got {GradientEpsilon}");
    }

    /// <summary>JSON options used for config.json (snake_case names).</summary>
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Serialise to JSON, with every property of the runtime type (a <see cref="TrainingConfiguration"/> adds its names).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, GetType(), Json);

    /// <summary>
    /// The settings that define the run's numbers as JSON, without the settings that only say where things are
    /// (<see cref="LocationOnlyProperties"/>): what a checkpoint is tied to.
    /// </summary>
    public string DefiningJson()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(ToJson())!.AsObject();
        foreach (var name in LocationOnlyProperties()) node.Remove(name);
        return node.ToJsonString();
    }

    /// <summary>
    /// SHA-256 of <see cref="DefiningJson"/>, the first 16 hex digits: checkpoints record it, and a resume with other
    /// settings is refused.
    /// </summary>
    public string ContentHash()
        => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(DefiningJson())))[..16];

    /// <summary>snake_case names of properties that may change between sessions of one run (paths, devices).</summary>
    protected virtual IEnumerable<string> LocationOnlyProperties() => Array.Empty<string>();
}
