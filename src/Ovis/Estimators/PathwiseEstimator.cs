using Ovis.Bounds;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// Base of the pathwise (reparameterised) family, docs/estimators.md §4.8–4.10: z is drawn by a differentiable path
/// (the model must have <see cref="LatentVariableModel.CanReparameterize"/>), log q is not detached, and the loss
/// is −mean_b mean_m L over a (possibly remapped) [B, M', K'] layout of the M·K particles. A model with discrete
/// latents is refused by <see cref="GradientEstimator.Compute"/> before anything is computed.
/// </summary>
public abstract class PathwiseEstimator : GradientEstimator
{
    /// <summary>Create the estimator with its canonical id.</summary>
    protected PathwiseEstimator(string id) : base(id) { }

    /// <inheritdoc />
    public override bool RequiresReparameterization => true;

    /// <summary>
    /// How the M·K particles drawn per data point are grouped into M' outer copies of a K'-particle bound
    /// (the catalogue's remapping, docs/estimators.md §4): by default unchanged.
    /// </summary>
    protected virtual (int outer, int particles) Grouping(int outerSamples, int particles) => (outerSamples, particles);

    /// <summary>
    /// Refuse particles whose latents carry no path gradient (e.g. enumerated or discrete latents) with a clear
    /// message. Densities without latents (the per-particle scalars of a chunked step, <see cref="ChunkedGradient"/>)
    /// pass: their path gradient is taken when the chunks are evaluated again.
    /// </summary>
    protected void RequirePathGradient(ParticleLogDensities densities)
    {
        if (densities.Latents.Any(z => !z.requires_grad))
            throw new NotSupportedException(
                $"estimator '{Id}' needs reparameterised latents that carry a path gradient; these particles do not " +
                "(discrete or enumerated latents): use a score-function estimator such as ovis-gamma1 or vimco-arithmetic");
    }

    /// <summary>
    /// −mean_{b,m'} L_{K'}^α with log q not detached (docs/estimators.md §4.8); the scaled log-weights a [B, M', K'],
    /// the bound [B, M'] and the diagnostics come back with it.
    /// </summary>
    public override EstimatorResult Surrogate(ParticleLogDensities densities, EstimatorContext context)
    {
        var settings = context.Settings;
        CheckParticleCount(densities, settings);
        RequirePathGradient(densities);
        var (outer, particles) = Grouping(settings.OuterSamples, settings.Particles);
        var shape = new long[] { densities.BatchSize, outer, particles };
        var scaled = ScaledLogWeights(densities, settings, detachPosterior: false, shape); // a [B, M', K']
        var bound = ImportanceWeightedBound.FromScaledLogWeights(scaled, settings.Alpha);                                      // [B, M']
        var loss = -bound.mean(new long[] { -1 }).mean();
        return new EstimatorResult(loss, BaseDiagnostics(context, scaled, bound, densities.LogLikelihood.view(shape)));
    }
}

/// <summary>
/// <c>pathwise</c>: the reparameterised gradient of −mean_m L_K^α with the given (M, K) (docs/estimators.md §4.8,
/// reference class Pathwise). Unbiased for ∇L_K^α (θ and φ) on a reparameterisable model.
/// </summary>
public sealed class Pathwise : PathwiseEstimator
{
    /// <summary>Create the estimator.</summary>
    public Pathwise() : base("pathwise") { }

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.Pathwise, "reparameterised gradient of mean_m L_K (M, K as given)", "O(M·K)");

    /// <inheritdoc />
    public override GradientClaim Claim(double alpha) => GradientClaim.Unbiased("the exact pathwise gradient of L_K^α, reparameterised z");
}

/// <summary>
/// <c>pathwise-iwae</c>: M := 1, K := M·K, i.e. one importance-weighted bound over all M·K particles, and its
/// reparameterised gradient (docs/estimators.md §4.8, reference class PathwiseIWAE). Unbiased for ∇L_{M·K}^α (θ and
/// φ); with α &gt; 0 it is the exact pathwise gradient of the IWR bound.
/// </summary>
public sealed class PathwiseIwae : PathwiseEstimator
{
    /// <summary>Create the estimator.</summary>
    public PathwiseIwae() : base("pathwise-iwae") { }

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.Pathwise, "reparameterised gradient of one IWAE bound over M·K particles", "O(M·K)");

    /// <inheritdoc />
    public override GradientClaim Claim(double alpha) => GradientClaim.Unbiased("the exact pathwise gradient of L_{M·K}^α, reparameterised z");

    /// <inheritdoc />
    protected override (int outer, int particles) Grouping(int outerSamples, int particles) => (1, outerSamples * particles);
}

/// <summary>
/// <c>pathwise-vae</c>: K := 1, M := M·K, i.e. the ELBO averaged over M·K reparameterised samples
/// (docs/estimators.md §4.8, reference class PathwiseVAE). Unbiased for ∇ELBO (θ and φ); its target is L_1 whatever K.
/// </summary>
public sealed class PathwiseVae : PathwiseEstimator
{
    /// <summary>Create the estimator.</summary>
    public PathwiseVae() : base("pathwise-vae") { }

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.Pathwise, "reparameterised ELBO gradient averaged over M·K samples", "O(M·K)");

    /// <inheritdoc />
    public override GradientClaim Claim(double alpha) => GradientClaim.Unbiased("the exact pathwise gradient of the ELBO (K := 1), reparameterised z");

    /// <inheritdoc />
    public override (int phi, int theta) TargetParticles(int particles) => (1, 1);

    /// <inheritdoc />
    protected override (int outer, int particles) Grouping(int outerSamples, int particles) => (outerSamples * particles, 1);
}

/// <summary>
/// <c>stl</c>, IWAE "sticking the landing" (docs/estimators.md §4.9): as <see cref="Pathwise"/>, but log q(z|x) is
/// evaluated with q's parameters detached (<see cref="SamplingOptions.DetachPosteriorParameters"/>) at the
/// reparameterised z, so φ receives only the path derivative Σ_k v_k ∂_z log w_k · ∂z_k/∂φ and the score term is
/// dropped. θ gets ∇_θ L. Unbiased at K = 1 (the dropped term has mean zero) but <b>biased</b> for K &gt; 1, so
/// no closed-form claim is made.
/// <para>
/// Ovis detaches the parameters inside the model, which keeps every fixed argument of q: the Gaussian toy keeps
/// its fixed standard deviation 2/3, so the reference code's bug (q rebuilt from its learnable parameters only,
/// with scale 1, docs/estimators.md §4.10 and §9.6) is <b>not</b> reproduced.
/// </para>
/// </summary>
public sealed class StickingTheLanding : PathwiseEstimator
{
    /// <summary>Create the estimator.</summary>
    public StickingTheLanding() : base("stl") { }

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.Pathwise,
        "IWAE-STL: pathwise with q's parameters detached in log q; biased for K > 1 (drops Σ v_k ∇_φ log q(z_k) at fixed z)", "O(M·K)");

    /// <inheritdoc />
    public override GradientClaim? Claim(double alpha) => null;

    /// <inheritdoc />
    protected override SamplingOptions Sampling(SamplingOptions baseOptions) => baseOptions with { DetachPosteriorParameters = true };
}
