using Ovis.Bounds;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// Reweighted wake-sleep (Bornschein and Bengio 2015; Le et al. 2019), docs/estimators.md §4.6. Particles are drawn
/// without reparameterisation; the θ-loss is −mean_{b,m} L_K^α with log q detached inside the log-weights (the
/// same T_θ as the score-function family, §3), so E[ĝ_θ] = ∇_θ L_K^α. Subclasses give the φ-loss:
/// wake-φ (<see cref="WakeWake"/>) or sleep-φ (<see cref="WakeSleep"/>). Total loss = θ-loss + φ-loss.
/// </summary>
public abstract class ReweightedWakeSleep : GradientEstimator
{
    /// <summary>Create the estimator with its canonical id.</summary>
    protected ReweightedWakeSleep(string id) : base(id) { }

    /// <summary>
    /// The φ-loss, a scalar that reaches φ only, from the particles, their scaled log-weights a [B, M, K] (θ-only
    /// gradient) and the context.
    /// </summary>
    protected abstract Tensor PhiLoss(ParticleLogDensities densities, Tensor scaledLogWeights, EstimatorContext context);

    /// <summary>v_k = softmax_k(a_k) computed as exp(a − logsumexp a) under no-grad, [B, M, K].</summary>
    protected static Tensor DetachedWeights(Tensor scaledLogWeights)
    {
        using var noGrad = no_grad();
        var a = scaledLogWeights.detach();
        return (a - a.logsumexp(-1, true)).exp();
    }

    /// <summary>The θ-loss −mean_{b,m} L (log q detached) plus <see cref="PhiLoss"/>, with the §6 diagnostics.</summary>
    public override EstimatorResult Surrogate(ParticleLogDensities densities, EstimatorContext context)
    {
        var settings = context.Settings;
        int perDraw = CheckParticleCount(densities, settings);
        var shape = new long[] { densities.BatchSize, settings.OuterSamples, perDraw };
        var scaled = ScaledLogWeights(densities, settings, detachPosterior: true, shape); // a [B, M, K]
        var bound = ImportanceWeightedBound.FromScaledLogWeights(scaled, settings.Alpha);                                      // [B, M]
        var thetaLoss = -bound.mean(new long[] { -1 }).mean();
        var loss = thetaLoss + PhiLoss(densities, scaled, context);
        return new EstimatorResult(loss, BaseDiagnostics(context, scaled, bound, densities.LogLikelihood.view(shape)));
    }
}

/// <summary>
/// <c>wake-wake</c> (RWS with the wake-φ update), docs/estimators.md §4.6: φ-loss −mean_{b,m} Σ_k sg(v_k)·log q(z_k|x),
/// so ĝ_φ = Σ_k v_k h_k — a self-normalised importance-sampling estimate of E_{p(z|x)}[∇_φ log q(z|x)] =
/// −∇_φ KL(p(z|x) ‖ q(z|x)), biased for finite K (the bias vanishes as K → ∞). Not a gradient of L_K for φ;
/// θ is unbiased for ∇_θ L_K^α.
/// </summary>
public sealed class WakeWake : ReweightedWakeSleep
{
    /// <summary>Create the estimator.</summary>
    public WakeWake() : base("wake-wake") { }

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.WakeSleep,
        "RWS wake-φ: φ follows Σ v_k ∇log q(z_k|x) (→ −∇KL(p(z|x)‖q) as K grows), θ follows ∇L_K", "O(K)");

    /// <inheritdoc />
    public override GradientClaim Claim(double alpha) => new(0, 1, true,
        "E[ĝ_φ] = E[Σ v_k ∇_φ log q(z_k|x)] (the wake-φ direction, not ∇_φ L_K); θ unbiased");

    /// <inheritdoc />
    protected override Tensor PhiLoss(ParticleLogDensities densities, Tensor scaledLogWeights, EstimatorContext context)
    {
        var weights = DetachedWeights(scaledLogWeights);                                                  // v [B, M, K]
        var logPosterior = densities.TotalLogPosterior().view(scaledLogWeights.shape);                   // [B, M, K]
        return -(weights * logPosterior).sum(-1).mean(new long[] { -1 }).mean();
    }
}

/// <summary>
/// <c>wake-sleep</c> (RWS with the sleep-φ update), docs/estimators.md §4.6: draw a full batch of N = B·M·K pairs
/// z ~ p_θ(z), x ~ p_θ(x|z) under no-grad and minimise −mean_n log q_φ(z_n|x_n); E[ĝ_φ] = E_{p(x,z)}[∇_φ log q(z|x)]
/// = −∇_φ E_{p(x)} KL(p(z|x) ‖ q(z|x)). The reference intends B·M·K but draws only B because M and K are never passed
/// on (§4.6, §9); Ovis draws all B·M·K. Needs a model implementing <see cref="IGenerativeSampler"/>; θ is trained
/// on −L_K^α as in <see cref="WakeWake"/>. Because the sleep phase calls the model directly, the exact oracle
/// cannot enumerate it (it refuses with <see cref="NotSupportedException"/>).
/// </summary>
public sealed class WakeSleep : ReweightedWakeSleep
{
    /// <summary>Create the estimator.</summary>
    public WakeSleep() : base("wake-sleep") { }

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.WakeSleep,
        "RWS sleep-φ: φ maximises log q(z|x) on B·M·K samples (z, x) ~ p(z)p(x|z); θ follows ∇L_K", "O(K)");

    /// <inheritdoc />
    public override GradientClaim? Claim(double alpha) => null;

    /// <summary>N = B·M·K, the number of sleep samples for a batch of B data points.</summary>
    public static int SleepSampleCount(EstimatorSettings settings, long batch) => checked((int)(batch * settings.OuterSamples * settings.Particles));

    /// <summary>
    /// The sleep φ-loss −mean_n log q(z_n|x_n) over <paramref name="count"/> pairs drawn from the model's generative
    /// model without gradient; reaches φ only.
    /// </summary>
    public static Tensor SleepLoss(LatentVariableModel model, int count, Generator? generator)
    {
        if (model is not IGenerativeSampler sampler)
            throw new NotSupportedException(
                $"estimator 'wake-sleep' needs a model that samples (x, z) from p(z)p(x|z) (IGenerativeSampler); model '{model.GetName()}' does not: use wake-wake");
        var (x, latents) = sampler.SamplePrior(count, generator);                                        // [N, D_x], [N, D_l]
        var densities = model.Evaluate(x, latents.Select(z => z.unsqueeze(1)).ToArray());              // P = 1
        return -densities.TotalLogPosterior().mean();
    }

    /// <inheritdoc />
    protected override Tensor PhiLoss(ParticleLogDensities densities, Tensor scaledLogWeights, EstimatorContext context)
        => SleepLoss(context.Model, SleepSampleCount(context.Settings, densities.BatchSize), context.Generator);
}
