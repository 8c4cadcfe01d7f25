using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>How OVIS_MC obtains its S auxiliary particles (docs/estimators.md §4.3).</summary>
public enum AuxiliaryParticles
{
    /// <summary>S extra particles beyond the K of the bound (the paper's form).</summary>
    Exclusive,
    /// <summary>S particles taken out of the K budget: φ follows L_{K−S}, θ follows L_K (the budget analysis).</summary>
    Inclusive,
}

/// <summary>
/// OVIS_MC, the paper's eq. (12) (docs/estimators.md §4.3, §8.2): the optimal control variate
/// c_k* = E_{z'~q}[d_k(z_1..z_{k−1}, z', z_{k+1}..z_K)] estimated with S auxiliary particles shared by all slots:
/// c_k = (1/S) Σ_s [ (logaddexp(LOO_k, a'_s) − log K)/(1−α) − exp(a'_s − logaddexp(LOO_k, a'_s)) ].
/// Computed in O(S·K) memory per data point (the reference builds [S, K, K]). Unbiased for every α: c_k does not
/// depend on z_k.
/// </summary>
public sealed class OvisMonteCarlo : ScoreFunctionEstimator
{
    /// <summary>Create OVIS_MC with an absolute number of auxiliary particles S.</summary>
    public OvisMonteCarlo(int auxiliaryParticles, AuxiliaryParticles mode)
        : base($"ovis-S{auxiliaryParticles}" + (mode == AuxiliaryParticles.Exclusive ? "-exclusive" : ""))
    {
        if (auxiliaryParticles < 1) throw new ArgumentOutOfRangeException(nameof(auxiliaryParticles), auxiliaryParticles, "OVIS_MC needs S ≥ 1 auxiliary particles");
        FixedCount = auxiliaryParticles;
        Mode = mode;
    }

    /// <summary>Create OVIS_MC with S = max(1, ⌊fraction·K⌋) auxiliary particles (the budget analysis).</summary>
    public OvisMonteCarlo(double fraction, AuxiliaryParticles mode)
        : base($"ovis-S{fraction.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}K" + (mode == AuxiliaryParticles.Exclusive ? "-exclusive" : ""))
    {
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the fraction y in ovis-S{y}K must lie in (0, 1)");
        Fraction = fraction;
        Mode = mode;
    }

    /// <summary>S when given as an absolute count.</summary>
    public int? FixedCount { get; }

    /// <summary>y when S = max(1, ⌊y·K⌋).</summary>
    public double? Fraction { get; }

    /// <summary>Exclusive (extra particles) or inclusive (taken out of the budget).</summary>
    public AuxiliaryParticles Mode { get; }

    /// <summary>S for a bound of K particles.</summary>
    public int AuxiliaryCount(int particles) => FixedCount ?? Math.Max(1, (int)Math.Floor(Fraction!.Value * particles));

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.ScoreFunction,
        (FixedCount is { } s ? $"OVIS_MC eq. (12) with S = {s}" : $"OVIS_MC eq. (12) with S = max(1, ⌊{Fraction}·K⌋)") +
        (Mode == AuxiliaryParticles.Exclusive ? " extra auxiliary particles" : " particles taken out of the K budget (φ: L_{K−S}, θ: L_K)"),
        "O(S·K)");

    /// <inheritdoc />
    public override GradientClaim Claim(double alpha)
        => GradientClaim.Unbiased("c_k averages d_k over auxiliary particles in slot k, so it is free of z_k");

    /// <inheritdoc />
    public override void ValidateParticles(int particles)
    {
        if (Mode == AuxiliaryParticles.Inclusive && particles < 2)
            throw new ArgumentException($"{Id} takes its auxiliary particles out of the K budget and needs K ≥ 2; use the -exclusive form at K = 1");
        if (Mode == AuxiliaryParticles.Inclusive && AuxiliaryCount(particles) > particles - 1)
            throw new ArgumentException($"{Id} takes S = {AuxiliaryCount(particles)} auxiliary particles out of K = {particles}, which leaves none for the bound; " +
                                        $"it needs S ≤ K − 1 = {particles - 1} (use ovis-S{AuxiliaryCount(particles)}-exclusive for extra particles, or ovis-S{{y}}K for a fraction of K)");
    }

    /// <inheritdoc />
    public override int ParticlesPerDraw(int particles)
        => Mode == AuxiliaryParticles.Exclusive ? particles + AuxiliaryCount(particles) : particles;

    /// <inheritdoc />
    protected override ParticleLayout Layout(int particles)
    {
        ValidateParticles(particles);
        int s = AuxiliaryCount(particles);
        if (Mode == AuxiliaryParticles.Exclusive) return new(0, particles, 0, particles, particles, s);
        return new(0, particles - s, 0, particles, particles - s, s);
    }

    /// <inheritdoc />
    protected override Tensor ControlVariate(LearningSignal signal)
    {
        var auxiliary = signal.AuxiliaryScaledLogWeights
            ?? throw new InvalidOperationException("OVIS_MC needs auxiliary particles");
        long k = signal.Particles;
        var leaveOneOut = signal.LeaveOneOutLogSumExp.unsqueeze(-1);                       // [B, M, K, 1]
        var substituted = auxiliary.unsqueeze(-2);                                          // [B, M, 1, S]
        var total = logaddexp(leaveOneOut, substituted);                                    // [B, M, K, S]
        var bound = signal.Unscale(total - Math.Log(k));                                     // L^{(s,k)}
        var weight = (substituted - total).exp();                                           // v^{(s,k)}
        return (bound - weight).mean(new long[] { -1 });                                    // [B, M, K]
    }
}
