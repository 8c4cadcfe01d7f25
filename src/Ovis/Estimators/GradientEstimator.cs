using Ovis.Bounds;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>The family an estimator belongs to.</summary>
public enum EstimatorFamily
{
    /// <summary>score-function (REINFORCE-type) estimators: z drawn without reparameterisation.</summary>
    ScoreFunction,
    /// <summary>reweighted wake-sleep.</summary>
    WakeSleep,
    /// <summary>the thermodynamic variational objective.</summary>
    Thermodynamic,
    /// <summary>pathwise (reparameterised) estimators.</summary>
    Pathwise,
}

/// <summary>
/// What an estimator's expected φ-gradient is, as a claim the exact oracle can check:
/// E[ĝ_φ] = GradientScale·∇_φ L + WakeScale·E[Σ_k v_k ∇_φ log q(z_k|x)], and E[ĝ_θ] = ∇_θ L when
/// <see cref="ThetaUnbiased"/>. A null claim (see <see cref="GradientEstimator.Claim"/>) means no closed form.
/// </summary>
public sealed record GradientClaim(double GradientScale, double WakeScale, bool ThetaUnbiased, string Explanation)
{
    /// <summary>Unbiased for both φ and θ.</summary>
    public static GradientClaim Unbiased(string why) => new(1, 0, true, why);

    /// <summary>True when the claim is plain unbiasedness.</summary>
    public bool IsUnbiased => GradientScale == 1 && WakeScale == 0 && ThetaUnbiased;
}

/// <summary>A static description of an estimator for listings (<c>ovis estimators</c>).</summary>
/// <param name="Family">the estimator family.</param>
/// <param name="Summary">one line on what it does.</param>
/// <param name="Memory">memory order per data point, e.g. O(K), O(S·K).</param>
public sealed record EstimatorDescription(EstimatorFamily Family, string Summary, string Memory);

/// <summary>
/// Base of every gradient estimator: a scalar surrogate loss built from the particles' log-densities
/// (docs/design.md, "the flow of one training step"). An estimator never knows the architecture.
/// </summary>
public abstract class GradientEstimator
{
    /// <summary>Create an estimator with its canonical id.</summary>
    protected GradientEstimator(string id) => Id = id;

    /// <summary>The canonical id, as parsed by <see cref="EstimatorRegistry"/>.</summary>
    public string Id { get; }

    /// <summary>Family, one-line summary and memory order.</summary>
    public abstract EstimatorDescription Description { get; }

    /// <summary>The estimator's claim about its expected gradient at the given α, or null where none is derived.</summary>
    public abstract GradientClaim? Claim(double alpha);

    /// <summary>True when the estimator draws z by a differentiable path.</summary>
    public virtual bool RequiresReparameterization => false;

    /// <summary>Particles drawn per (b, m) for a bound of K particles (K + S for exclusive OVIS_MC).</summary>
    public virtual int ParticlesPerDraw(int particles) => particles;

    /// <summary>The bound sizes the φ- and θ-gradients estimate (they differ for inclusive OVIS_MC).</summary>
    public virtual (int phi, int theta) TargetParticles(int particles) => (particles, particles);

    /// <summary>Check that K is allowed, with a clear message otherwise.</summary>
    public virtual void ValidateParticles(int particles) { }

    /// <summary>
    /// Refuse a model this estimator cannot run on: a pathwise estimator needs reparameterised samples, which a model
    /// with discrete latents cannot give. The one statement of this rule, for the trainer, the configuration check and
    /// every draw.
    /// </summary>
    /// <param name="modelCanReparameterize">the model's <see cref="LatentVariableModel.CanReparameterize"/>.</param>
    /// <param name="modelName">the model's name, for the message.</param>
    public void CheckModel(bool modelCanReparameterize, string modelName)
    {
        if (RequiresReparameterization && !modelCanReparameterize)
            throw new NotSupportedException(
                $"estimator '{Id}' needs reparameterised samples, but model '{modelName}' has discrete latents; " +
                "use a score-function estimator such as ovis-gamma1, vimco-arithmetic or reinforce");
    }

    /// <summary>How the model must draw its particles.</summary>
    protected virtual SamplingOptions Sampling(Models.SamplingOptions baseOptions) => baseOptions;

    /// <summary>
    /// Draw the particles from the model and build the surrogate loss: the full training-step computation up to
    /// (not including) <c>backward()</c>.
    /// </summary>
    public EstimatorResult Compute(EstimatorContext context) => Surrogate(DrawParticles(context), context);

    /// <summary>
    /// <see cref="Compute"/> with the particles drawn by <paramref name="forward"/>(P, options) instead of
    /// <c>context.Model.Forward</c>: the gradient analysis uses it to draw from a model evaluated with per-row
    /// parameter copies (<see cref="Models.IRowwiseGradientModel"/>), so that one autograd call yields every data
    /// row's own gradient. <paramref name="forward"/> must honour the options exactly as the model's Forward does.
    /// </summary>
    public EstimatorResult ComputeWith(EstimatorContext context, Func<int, SamplingOptions, ParticleLogDensities> forward)
        => Surrogate(DrawParticles(context, forward), context);

    /// <summary>
    /// Validate the settings and draw M·ParticlesPerDraw(K) particles per data point, sampled the way this
    /// estimator needs (with or without reparameterisation, q's parameters detached for STL/DReG), by the model's
    /// Forward or by <paramref name="forward"/>.
    /// </summary>
    public ParticleLogDensities DrawParticles(EstimatorContext context, Func<int, SamplingOptions, ParticleLogDensities>? forward = null)
    {
        var (particles, options) = PrepareDraw(context);
        forward ??= (count, sampling) => Draw(context, count, sampling);
        return forward(particles, options);
    }

    /// <summary>
    /// How <see cref="DrawParticles"/> draws when no other forward is given: the model's Forward. An estimator that
    /// needs a node between the draw of z and its evaluation (DReG) overrides it; the result must be the same
    /// densities the model's Forward gives.
    /// </summary>
    protected virtual ParticleLogDensities Draw(EstimatorContext context, int particles, SamplingOptions options)
        => context.Model.Forward(context.Data, particles, options);

    /// <summary>
    /// Validate the settings, K and the model, and return how many particles to draw per data point
    /// (M·ParticlesPerDraw(K)) and how (<see cref="SamplingOptions"/> with the context's generator).
    /// </summary>
    public (int particles, SamplingOptions options) PrepareDraw(EstimatorContext context)
    {
        var settings = context.Settings;
        settings.Validate();
        ValidateParticles(settings.Particles);
        CheckModel(context.Model.CanReparameterize, context.Model.GetName());
        return (settings.OuterSamples * ParticlesPerDraw(settings.Particles),
                Sampling(new SamplingOptions(Reparameterize: RequiresReparameterization, Generator: context.Generator)));
    }

    /// <summary>
    /// True when the surrogate depends on the particles only through their per-particle log-densities (log p(x|z),
    /// log p(z_l), log q(z_l|x)), so that its gradient can be computed with the particles in chunks
    /// (<see cref="ChunkedGradient"/>). False for an estimator that differentiates through the latents themselves.
    /// </summary>
    public virtual bool SupportsParticleChunks => true;

    /// <summary>
    /// The surrogate loss and diagnostics for given particles, [B, M·ParticlesPerDraw(K)] rows. This is the
    /// estimator's whole mathematics; the exact oracle calls it directly on enumerated particles.
    /// </summary>
    public abstract EstimatorResult Surrogate(ParticleLogDensities densities, EstimatorContext context);

    /// <summary>
    /// The scaled log-weights a = (1 − α)·log w of docs/estimators.md §1 viewed as <paramref name="shape"/> ([B, M, K]),
    /// with β_KL from the settings; <paramref name="detachPosterior"/> detaches log q inside log w (the score-function
    /// family trains θ only through log w; the pathwise family differentiates through it).
    /// </summary>
    protected static Tensor ScaledLogWeights(ParticleLogDensities densities, EstimatorSettings settings, bool detachPosterior, long[] shape)
        => RenyiAlpha.Scale(densities.LogWeights(detachPosterior, settings.KlWeight), settings.Alpha).view(shape);

    /// <summary>Check the particle count of the densities against the settings and return the per-(b, m) count.</summary>
    protected int CheckParticleCount(ParticleLogDensities densities, EstimatorSettings settings)
    {
        int perDraw = ParticlesPerDraw(settings.Particles);
        if (densities.Particles != (long)settings.OuterSamples * perDraw)
            throw new ArgumentException(
                $"estimator '{Id}' expects M·{perDraw} = {settings.OuterSamples * perDraw} particles per data point, got {densities.Particles}");
        return perDraw;
    }

    /// <summary>
    /// The diagnostics of docs/estimators.md §6 from the scaled log-weights a [B, M, K_tot] (detached), the bound used
    /// for θ [B, M], log p(x|z) [B, M, K_tot] and, for the score-function family, the control-variate error; empty when
    /// the context turns diagnostics off (<see cref="EstimatorContext.Diagnostics"/>).
    /// </summary>
    protected static Dictionary<string, Tensor> BaseDiagnostics(EstimatorContext context, Tensor scaledLogWeights, Tensor bound, Tensor logLikelihood, Tensor? controlVariateError = null)
    {
        if (!context.Diagnostics) return new Dictionary<string, Tensor>();
        using var noGrad = no_grad();
        var a = scaledLogWeights.detach();
        var elbo = EvidenceLowerBound.FromLogWeights(a).mean(new long[] { -1 });                  // [B]
        var nll = -logLikelihood.detach().mean(new long[] { -1, -2 });                            // [B]
        var boundPerPoint = bound.detach().mean(new long[] { -1 });                               // [B]
        var result = new Dictionary<string, Tensor>
        {
            [DiagnosticKeys.Bound] = boundPerPoint,
            [DiagnosticKeys.Elbo] = elbo,
            [DiagnosticKeys.NegativeLogLikelihood] = nll,
            [DiagnosticKeys.Kl] = -elbo - nll,
            [DiagnosticKeys.KlPosterior] = boundPerPoint - elbo,
            [DiagnosticKeys.EffectiveSampleSize] = EffectiveSampleSize.FromLogWeights(a).mean(new long[] { -1 }),
        };
        if (controlVariateError is not null)
            result[DiagnosticKeys.ControlVariateMse] = controlVariateError.square().mean(new long[] { -1, -2 });
        return result;
    }
}
