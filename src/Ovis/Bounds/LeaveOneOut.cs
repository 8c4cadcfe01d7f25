using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Bounds;

/// <summary>
/// Leave-one-out reductions of the particle axis, in O(K) memory and without cancellation
/// (estimators.md §4.2, §10). Each returns, for every slot k, a reduction over the other K − 1 entries, computed
/// from exclusive prefix and suffix scans. Nothing is subtracted from a total, so the result is exact when one
/// weight dominates (v_k → 1) and is free of NaN when some entries are −∞.
/// </summary>
public static class LeaveOneOut
{
    /// <summary>
    /// LOO_k = logsumexp_{l≠k} a_l over the last axis; [..., K] → [..., K]. For K = 1 every entry is −∞
    /// (the empty sum).
    /// </summary>
    public static Tensor LogSumExpExcludingEach(Tensor scaledLogWeights)
    {
        var a = scaledLogWeights;
        long k = a.shape[^1];
        if (k == 1) return full_like(a, double.NegativeInfinity);
        using var scope = NewDisposeScope();
        var prefix = a.logcumsumexp(-1);                                  // logsumexp_{l≤k} a_l
        var suffix = a.flip(-1).logcumsumexp(-1).flip(-1);                // logsumexp_{l≥k} a_l
        var empty = full_like(a.narrow(-1, 0, 1), double.NegativeInfinity);
        var before = cat(new[] { empty, prefix.narrow(-1, 0, k - 1) }, -1); // logsumexp_{l<k} a_l
        var after = cat(new[] { suffix.narrow(-1, 1, k - 1), empty }, -1);  // logsumexp_{l>k} a_l
        return logaddexp(before, after).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// log Ẑ_[−k] in scaled form: logsumexp_{l≠k} a_l − log(K − 1), the log of the arithmetic mean of the other
    /// K − 1 tempered weights; [..., K] → [..., K]. Requires K ≥ 2.
    /// </summary>
    public static Tensor LogMeanExpExcludingEach(Tensor scaledLogWeights)
    {
        long k = RequireAtLeastTwo(scaledLogWeights);
        return LogSumExpExcludingEach(scaledLogWeights) - Math.Log(k - 1);
    }

    /// <summary>
    /// The mean of the other entries, Σ_{l≠k} a_l / (K − 1), summed directly over l ≠ k (never as total − a_k,
    /// which is NaN when a_k = −∞); [..., K] → [..., K]. Requires K ≥ 2.
    /// </summary>
    public static Tensor MeanExcludingEach(Tensor values)
    {
        long k = RequireAtLeastTwo(values);
        using var scope = NewDisposeScope();
        var prefix = values.cumsum(-1);
        var suffix = values.flip(-1).cumsum(-1).flip(-1);
        var zero = zeros_like(values.narrow(-1, 0, 1));
        var before = cat(new[] { zero, prefix.narrow(-1, 0, k - 1) }, -1);
        var after = cat(new[] { suffix.narrow(-1, 1, k - 1), zero }, -1);
        return ((before + after) / (k - 1)).MoveToOuterDisposeScope();
    }

    private static long RequireAtLeastTwo(Tensor values)
    {
        long k = values.shape[^1];
        if (k < 2) throw new ArgumentException($"a leave-one-out mean needs at least 2 particles, got K = {k}");
        return k;
    }
}
