using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>Which leave-one-out form OVIS~ is built on.</summary>
public enum OvisAsymptoticForm
{
    /// <summary>
    /// VIMCO's arithmetic leave-one-out, [LOO_k − log(K−1)]/(1−α): the paper's eq. (17) at α = 0, and the form that
    /// stays unbiased at γ = 0 for every α (docs/estimators.md §4.4–4.5). Ovis's default.
    /// </summary>
    Arithmetic,
    /// <summary>VIMCO's geometric leave-one-out (the reference's OvisAsymptoticFromVimco, geometric).</summary>
    Geometric,
    /// <summary>
    /// The reference code's formula, reproduced exactly: c_k = L − [log(1−1/K) − log max(1 − v_k, ε)] − γv_k +
    /// (1−γ)log(1−1/K), with the clamp at the dtype's machine epsilon and without the 1/(1−α) factor on the
    /// leave-one-out term. Biased for α ≠ 0 even at γ = 0 (§4.4, §9.2); for reproducing the paper's IWR runs only.
    /// </summary>
    Reference,
}

/// <summary>
/// OVIS~, the asymptotic optimal control variate of the paper's eq. (17) (docs/estimators.md §4.4, §8.3):
/// c_k = log Ẑ_[−k] − γ·v_k + (1−γ)·log(1 − 1/K), γ ∈ [0, 1]. The residual is
/// r_k = −log(1 − v_k) − v_k + γ(v_k + log(1 − 1/K)) at α = 0, O(K⁻²) when the weights are balanced.
/// γ = 0 is unbiased; γ &gt; 0 adds γ·E[Σ_k v_k h_k], the RWS wake-φ direction (§4.4). Requires K ≥ 2.
/// </summary>
public sealed class OvisAsymptotic : ScoreFunctionEstimator
{
    /// <summary>Create OVIS~ with the given γ and leave-one-out form.</summary>
    public OvisAsymptotic(double gamma, OvisAsymptoticForm form = OvisAsymptoticForm.Arithmetic)
        : base(CanonicalId(gamma, form))
    {
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ of OVIS~ must lie in [0, 1]");
        Gamma = gamma;
        Form = form;
    }

    /// <summary>γ, the interpolation between the small-ESS (0) and large-ESS (1) limits.</summary>
    public double Gamma { get; }

    /// <summary>The leave-one-out form.</summary>
    public OvisAsymptoticForm Form { get; }

    /// <summary>The id this configuration parses from: <c>ovis-gamma{γ}</c> plus a form suffix when not arithmetic.</summary>
    public static string CanonicalId(double gamma, OvisAsymptoticForm form)
        => "ovis-gamma" + gamma.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + form switch
        {
            OvisAsymptoticForm.Geometric => "-geometric",
            OvisAsymptoticForm.Reference => "-reference",
            _ => "",
        };

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.ScoreFunction, Form switch
    {
        OvisAsymptoticForm.Reference => $"OVIS~ eq. (17), γ = {Gamma}, the reference code's formula (clamp, no 1/(1−α))",
        OvisAsymptoticForm.Geometric => $"OVIS~ eq. (17), γ = {Gamma}, on VIMCO's geometric leave-one-out",
        _ => $"OVIS~ eq. (17), γ = {Gamma}: log Ẑ_[−k] − γ v_k + (1−γ) log(1−1/K)",
    }, "O(K)");

    /// <inheritdoc />
    public override GradientClaim Claim(double alpha)
    {
        if (Form == OvisAsymptoticForm.Reference)
            return alpha == 0 && Gamma == 0
                ? GradientClaim.Unbiased("at α = 0, γ = 0 the control variate is log Ẑ with w_k deleted, free of z_k")
                : new GradientClaim(1 - alpha, Gamma - alpha, true,
                    "the reference's leave-one-out lacks 1/(1−α) and contains v_k: E[ĝ_φ] = (1−α)∇L + (γ−α)·E[Σ v_k h_k]");
        return Gamma == 0
            ? GradientClaim.Unbiased("at γ = 0, c_k depends on z_{−k} only")
            : new GradientClaim(1, Gamma, true, "c_k contains −γ v_k, which depends on z_k: E[ĝ_φ] = ∇L + γ·E[Σ v_k h_k] (the wake-φ direction)");
    }

    /// <inheritdoc />
    public override void ValidateParticles(int particles)
    {
        if (particles < 2)
            throw new ArgumentException($"{Id} needs K ≥ 2 particles (log(1 − 1/K) is −∞ at K = 1); use reinforce or an ovis-S estimator at K = 1");
    }

    /// <inheritdoc />
    protected override Tensor ControlVariate(LearningSignal signal)
    {
        long k = signal.Particles;
        if (k < 2) throw new ArgumentException($"{Id} needs K ≥ 2 particles");
        double logOneMinusInverseK = Math.Log(1 - 1.0 / k);
        var weights = signal.Weights;
        Tensor leaveOneOut = Form switch
        {
            OvisAsymptoticForm.Arithmetic => Vimco.Compute(signal, LeaveOneOutEstimate.Arithmetic),
            OvisAsymptoticForm.Geometric => Vimco.Compute(signal, LeaveOneOutEstimate.Geometric),
            _ => ReferenceLeaveOneOut(signal, logOneMinusInverseK),
        };
        return leaveOneOut - Gamma * weights + (1 - Gamma) * logOneMinusInverseK;
    }

    /// <summary>The reference's L − [log(1−1/K) − log max(1 − v_k, ε)], ε the dtype's machine epsilon.</summary>
    private static Tensor ReferenceLeaveOneOut(LearningSignal signal, double logOneMinusInverseK)
    {
        double epsilon = signal.Weights.dtype == ScalarType.Float64 ? 2.220446049250313e-16 : 1.1920928955078125e-07;
        var logComplement = (1 - signal.Weights).clamp_min(epsilon).log();                  // log max(1 − v_k, ε)
        return signal.Bound.unsqueeze(-1) - (logOneMinusInverseK - logComplement);
    }
}
