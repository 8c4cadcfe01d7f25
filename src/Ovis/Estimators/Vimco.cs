using Ovis.Bounds;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>How VIMCO estimates the left-out particle's log-weight (docs/estimators.md §4.2).</summary>
public enum LeaveOneOutEstimate
{
    /// <summary>the log of the arithmetic mean of the other tempered weights.</summary>
    Arithmetic,
    /// <summary>the geometric mean: the mean of the other scaled log-weights (the original VIMCO).</summary>
    Geometric,
}

/// <summary>
/// VIMCO (Mnih and Rezende 2016), docs/estimators.md §4.2: c_k is L recomputed with particle k's log-weight replaced by
/// an estimate â_{−k} built from the others, c_k = [logsumexp({a_l}_{l≠k} ∪ {â_{−k}}) − log K]/(1−α).
/// The arithmetic form simplifies exactly to [LOO_k − log(K−1)]/(1−α) = log Ẑ_[−k] at α = 0; the geometric form
/// uses â_{−k} = Σ_{l≠k} a_l/(K−1). Both are O(K) in memory (no K×K tensor) and unbiased. At K = 1, c = 0.
/// </summary>
public sealed class Vimco : ScoreFunctionEstimator
{
    /// <summary>Create VIMCO with the given leave-one-out estimate.</summary>
    public Vimco(LeaveOneOutEstimate estimate) : base(estimate == LeaveOneOutEstimate.Arithmetic ? "vimco-arithmetic" : "vimco-geometric")
        => Estimate = estimate;

    /// <summary>The leave-one-out estimate.</summary>
    public LeaveOneOutEstimate Estimate { get; }

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.ScoreFunction,
        Estimate == LeaveOneOutEstimate.Arithmetic
            ? "VIMCO: L with particle k replaced by the arithmetic mean of the others"
            : "VIMCO: L with particle k replaced by the geometric mean of the others",
        "O(K)");

    /// <inheritdoc />
    public override GradientClaim Claim(double alpha) => GradientClaim.Unbiased("c_k is built from z_{−k} only");

    /// <inheritdoc />
    protected override Tensor ControlVariate(LearningSignal signal) => Compute(signal, Estimate);

    /// <summary>The VIMCO control variate of the given form, [B, M, K]; zeros for K = 1.</summary>
    public static Tensor Compute(LearningSignal signal, LeaveOneOutEstimate estimate)
    {
        long k = signal.Particles;
        if (k == 1) return zeros_like(signal.ScaledLogWeights);
        var leaveOneOut = signal.LeaveOneOutLogSumExp;                                        // [B, M, K]
        if (estimate == LeaveOneOutEstimate.Arithmetic)
            return signal.Unscale(leaveOneOut - Math.Log(k - 1));
        var replacement = LeaveOneOut.MeanExcludingEach(signal.ScaledLogWeights);           // â_{−k} [B, M, K]
        return signal.Unscale(logaddexp(leaveOneOut, replacement) - Math.Log(k));
    }
}
