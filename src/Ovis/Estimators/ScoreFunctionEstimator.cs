using Ovis.Bounds;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// The shared score-function surrogate of docs/estimators.md §3. Per (b, m):
/// T_θ = −L (log q detached inside the log-weights, so it reaches θ only) and
/// T_φ = −Σ_k sg(d_k − c_k)·log q(z_k|x) (reaches φ only), with loss = mean_b mean_m (T_θ + T_φ). The gradients are
/// ∇_θ loss = −∇_θ L and ∇_φ loss = −Σ_k (d_k − c_k) h_k with h_k = ∇_φ log q(z_k|x) (eq. of §2.2).
/// A subclass supplies only the control variate c_k, computed under no-grad; it is unbiased whenever c_k does
/// not depend on z_k (§2.2, unbiasedness rule).
/// </summary>
public abstract class ScoreFunctionEstimator : GradientEstimator
{
    /// <summary>Create the estimator with its canonical id.</summary>
    protected ScoreFunctionEstimator(string id) : base(id) { }

    /// <summary>Where the score, θ and auxiliary particles sit among the K_tot particles of one (b, m).</summary>
    /// <param name="ScoreStart">first score particle.</param>
    /// <param name="ScoreCount">K', the particles whose log q receives the φ-gradient.</param>
    /// <param name="ThetaStart">first particle of the θ bound.</param>
    /// <param name="ThetaCount">particles of the θ bound.</param>
    /// <param name="AuxiliaryStart">first auxiliary particle.</param>
    /// <param name="AuxiliaryCount">S, the auxiliary particles (0 for all but OVIS_MC).</param>
    protected readonly record struct ParticleLayout(int ScoreStart, int ScoreCount, int ThetaStart, int ThetaCount, int AuxiliaryStart, int AuxiliaryCount);

    /// <summary>The layout of the particles for a bound of K particles; by default all K serve φ and θ.</summary>
    protected virtual ParticleLayout Layout(int particles) => new(0, particles, 0, particles, particles, 0);

    /// <inheritdoc />
    public override (int phi, int theta) TargetParticles(int particles)
    {
        var layout = Layout(particles);
        return (layout.ScoreCount, layout.ThetaCount);
    }

    /// <summary>The control variate c_k, [B, M, K'], computed under no-grad from the learning signal.</summary>
    protected abstract Tensor ControlVariate(LearningSignal signal);

    /// <summary>
    /// The residual r_k = d_k − c_k that multiplies h_k in the φ-gradient, [B, M, K'] (what the golden vectors pin).
    /// </summary>
    public Tensor Residual(LearningSignal signal)
    {
        using var noGrad = no_grad();
        return signal.Signal - ControlVariate(signal);
    }

    /// <summary>The control variate c_k for given scaled log-weights (the golden tests call this).</summary>
    public Tensor ControlVariateOf(LearningSignal signal)
    {
        using var noGrad = no_grad();
        return ControlVariate(signal);
    }

    /// <inheritdoc />
    public override EstimatorResult Surrogate(ParticleLogDensities densities, EstimatorContext context)
    {
        var settings = context.Settings;
        ValidateParticles(settings.Particles);
        int perDraw = CheckParticleCount(densities, settings);
        long batch = densities.BatchSize;
        int outer = settings.OuterSamples;
        var layout = Layout(settings.Particles);

        var shape = new long[] { batch, outer, perDraw };
        var scaled = ScaledLogWeights(densities, settings, detachPosterior: true, shape); // a [B, M, K_tot]
        var logPosterior = densities.TotalLogPosterior().view(shape);                                                             // [B, M, K_tot]
        LogWeightGuard.Check(scaled, Id);

        var thetaBound = ImportanceWeightedBound.FromScaledLogWeights(scaled.narrow(-1, layout.ThetaStart, layout.ThetaCount), settings.Alpha); // [B, M]

        Tensor residual;
        using (no_grad())
        {
            var detached = scaled.detach();
            var signal = new LearningSignal(detached.narrow(-1, layout.ScoreStart, layout.ScoreCount), settings.Alpha,
                layout.AuxiliaryCount > 0 ? detached.narrow(-1, layout.AuxiliaryStart, layout.AuxiliaryCount) : null);
            var controlVariate = ControlVariate(signal);                                     // c [B, M, K']
            residual = signal.Signal - controlVariate;                                       // d − c [B, M, K']
        }
        var scoreLogPosterior = logPosterior.narrow(-1, layout.ScoreStart, layout.ScoreCount);
        var phiTerm = -(residual * scoreLogPosterior).sum(-1);                               // T_φ [B, M]
        var loss = (phiTerm - thetaBound).mean(new long[] { -1 }).mean();

        var logLikelihood = densities.LogLikelihood.view(shape);
        return new EstimatorResult(loss, BaseDiagnostics(context, scaled, thetaBound, logLikelihood, residual)); // (c − d)² = r²
    }
}
