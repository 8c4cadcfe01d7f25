using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Bounds;

/// <summary>
/// The importance-weighted bound and its Rényi generalisation (docs/estimators.md §1, §2.1):
/// L_K^α = (1/(1−α)) · [ logsumexp_k((1−α)·log w_k) − log K ].
/// α = 0 gives the IWAE bound log Ẑ, K = 1 gives the ELBO for every α.
/// All functions reduce the last axis: log-weights <c>[..., K]</c> give bounds <c>[...]</c>.
/// </summary>
public static class ImportanceWeightedBound
{
    /// <summary>
    /// L from scaled log-weights a_k = (1−α)·log w_k: (logsumexp_k a_k − log K)/(1−α).
    /// Stable for large magnitudes; a row whose weights are all zero gives −∞ rather than NaN.
    /// </summary>
    /// <param name="scaledLogWeights">a, shape [..., K].</param>
    /// <param name="alpha">Rényi parameter α in [0, 1).</param>
    public static Tensor FromScaledLogWeights(Tensor scaledLogWeights, double alpha)
    {
        RenyiAlpha.Check(alpha);
        long k = scaledLogWeights.shape[^1];
        var lse = scaledLogWeights.logsumexp(-1, false);
        var bound = lse - Math.Log(k);
        return alpha == 0 ? bound : bound / (1 - alpha);
    }

    /// <summary>L_K^α from unscaled log-weights log w_k, shape [..., K] (eq. of §2.1).</summary>
    public static Tensor Compute(Tensor logWeights, double alpha = 0)
        => FromScaledLogWeights(RenyiAlpha.Scale(logWeights, alpha), alpha);
}

/// <summary>The Rényi parameter α of the IWR bound: validation and the (1−α) tempering of log-weights.</summary>
public static class RenyiAlpha
{
    /// <summary>Throw a clear error unless 0 ≤ α &lt; 1.</summary>
    public static void Check(double alpha)
    {
        if (!(alpha >= 0 && alpha < 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "the Rényi parameter α must lie in [0, 1)");
    }

    /// <summary>Scaled log-weights a_k = (1−α)·log w_k (docs/estimators.md §1).</summary>
    public static Tensor Scale(Tensor logWeights, double alpha)
    {
        Check(alpha);
        return alpha == 0 ? logWeights.alias() : logWeights * (1 - alpha);
    }
}

/// <summary>The evidence lower bound estimate mean_k log w_k (the ELBO diagnostic of docs/estimators.md §6).</summary>
public static class EvidenceLowerBound
{
    /// <summary>mean over the last axis of the (scaled) log-weights, [..., K] → [...].</summary>
    public static Tensor FromLogWeights(Tensor logWeights) => logWeights.mean(new long[] { -1 });
}
