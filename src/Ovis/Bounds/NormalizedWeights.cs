using static TorchSharp.torch;

namespace Ovis.Bounds;

/// <summary>
/// Self-normalised importance weights v_k = w_k^{1−α} / Σ_l w_l^{1−α} = softmax_k(a_k) (docs/estimators.md §1).
/// </summary>
public static class NormalizedWeights
{
    /// <summary>softmax over the last axis of the scaled log-weights a, shape [..., K].</summary>
    public static Tensor FromScaledLogWeights(Tensor scaledLogWeights) => scaledLogWeights.softmax(-1);
}

/// <summary>
/// Effective sample size ESS = (Σ_k w_k)² / Σ_k w_k², computed in log space as
/// exp(2·logsumexp_k a_k − logsumexp_k 2a_k) (docs/estimators.md §6). Equals 1 when K = 1.
/// </summary>
public static class EffectiveSampleSize
{
    /// <summary>ESS of each row of the (scaled) log-weights, [..., K] → [...].</summary>
    public static Tensor FromLogWeights(Tensor logWeights)
        => (2 * logWeights.logsumexp(-1, false) - (2 * logWeights).logsumexp(-1, false)).exp();
}
