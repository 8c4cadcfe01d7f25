using Ovis.Estimators;

namespace Ovis.Analysis;

/// <summary>One estimator checked against the exact oracle at one (K, α).</summary>
/// <param name="Estimator">the estimator id.</param>
/// <param name="Particles">K.</param>
/// <param name="Alpha">α.</param>
/// <param name="PhiRelativeBias">‖E[ĝ_φ] − ∇_φL‖ / ‖∇_φL‖.</param>
/// <param name="ThetaRelativeBias">‖E[ĝ_θ] − ∇_θL‖ / ‖∇_θL‖.</param>
/// <param name="PhiVariance">total variance of ĝ_φ.</param>
/// <param name="ThetaVariance">total variance of ĝ_θ.</param>
/// <param name="Claim">what the estimator claims about its mean.</param>
/// <param name="ClaimResidual">relative distance between E[ĝ] and the claimed mean (null without a claim).</param>
/// <param name="ClaimHolds">whether the residual is within the tolerance (null without a claim).</param>
/// <param name="Error">why the estimator could not be checked, if it could not.</param>
public sealed record VerificationResult(string Estimator, int Particles, double Alpha, double PhiRelativeBias, double ThetaRelativeBias,
    double PhiVariance, double ThetaVariance, string Claim, double? ClaimResidual, bool? ClaimHolds, string? Error = null);

/// <summary>
/// Checks estimators against the exact oracle: the relative bias of E[ĝ] for φ and θ, the total variance, and
/// whether E[ĝ] equals what the estimator claims (<see cref="GradientClaim"/>): ∇L for the unbiased ones,
/// ∇L + γ·E[Σ v_k h_k] for OVIS~ with γ &gt; 0, and so on.
/// </summary>
public sealed class EstimatorVerifier
{
    private readonly ExactOracle oracle;

    /// <summary>Create a verifier on an oracle.</summary>
    public EstimatorVerifier(ExactOracle oracle, double tolerance = 1e-9)
    {
        this.oracle = oracle;
        Tolerance = tolerance;
    }

    /// <summary>The relative tolerance of a claim (round-off level in float64).</summary>
    public double Tolerance { get; }

    /// <summary>Verify one estimator at (K, α); errors an estimator raises by design (e.g. K = 1) are reported, not thrown.</summary>
    public VerificationResult Verify(GradientEstimator estimator, int particles, double alpha)
    {
        var claim = estimator.Claim(alpha);
        string claimText = claim is null ? "no closed form" : claim.IsUnbiased ? "unbiased" : claim.Explanation;
        try
        {
            var (phiK, thetaK) = estimator.TargetParticles(particles);
            var exact = oracle.Gradient(phiK, thetaK, alpha);
            var moments = oracle.Moments(estimator, new EstimatorSettings(particles, Alpha: alpha));
            double phiBias = Vectors.Distance(moments.PhiMean, exact.Phi) / Vectors.Norm(exact.Phi);
            double thetaBias = Vectors.Distance(moments.ThetaMean, exact.Theta) / Vectors.Norm(exact.Theta);
            double? residual = null;
            if (claim is not null)
            {
                var expectedPhi = exact.Phi.Select(v => claim.GradientScale * v).ToArray();
                if (claim.WakeScale != 0)
                {
                    var wake = oracle.WakeDirection(phiK, alpha);
                    for (int i = 0; i < expectedPhi.Length; i++) expectedPhi[i] += claim.WakeScale * wake[i];
                }
                double phiResidual = Vectors.Distance(moments.PhiMean, expectedPhi) / Vectors.Norm(exact.Phi);
                residual = claim.ThetaUnbiased ? Math.Max(phiResidual, thetaBias) : phiResidual;
            }
            return new VerificationResult(estimator.Id, particles, alpha, phiBias, thetaBias, moments.PhiVariance, moments.ThetaVariance,
                claimText, residual, residual is null ? null : residual <= Tolerance);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return new VerificationResult(estimator.Id, particles, alpha, double.NaN, double.NaN, double.NaN, double.NaN, claimText, null, null, e.Message);
        }
    }
}

/// <summary>Euclidean norms of flattened gradients.</summary>
public static class Vectors
{
    /// <summary>‖v‖₂.</summary>
    public static double Norm(IReadOnlyList<double> v) => Math.Sqrt(v.Sum(x => x * x));

    /// <summary>‖a − b‖₂.</summary>
    public static double Distance(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count) throw new ArgumentException($"vectors of different lengths {a.Count} and {b.Count}");
        double sum = 0;
        for (int i = 0; i < a.Count; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(sum);
    }
}
