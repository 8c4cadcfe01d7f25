using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Bounds;

/// <summary>
/// Leave-one-out reductions of the particle axis, in O(K) memory and without cancellation
/// (docs/estimators.md §4.2, §10). Each returns, for every slot k, a reduction over the other K − 1 entries. The
/// log-sum-exp never subtracts the dominant weight from a total (see <see cref="LogSumExpExcludingEach"/>) and the
/// plain means use exclusive prefix and suffix sums, so the results are exact when one weight dominates (v_k → 1)
/// and free of NaN when some entries are −∞.
/// </summary>
public static class LeaveOneOut
{
    /// <summary>
    /// LOO_k = logsumexp_{l≠k} a_l over the last axis; [..., K] → [..., K]. For K = 1 every entry is −∞
    /// (the empty sum).
    /// <para>
    /// With M = max_l a_l, e_l = exp(a_l − M) ∈ [0, 1] and S = Σ_l e_l: for every k except the arg-max k*, the other
    /// entries include e_k* = 1, so S − e_k ≥ max(1, S − 1) ≥ S/2: the subtraction loses at most one
    /// bit (no cancellation), and e_k* = 1 keeps it clear of underflow. Only k* could cancel (v_k* → 1) or underflow (all
    /// others far below M), so its value is a separate log-sum-exp of the others with their own shift. So the result
    /// keeps the accuracy of a plain log-sum-exp with two exp passes, instead of the two sequential log-scans of a
    /// prefix/suffix formulation (several times slower on the CPU). −∞ entries give e = 0; an all −∞
    /// row gives −∞ everywhere.
    /// </para>
    /// </summary>
    public static Tensor LogSumExpExcludingEach(Tensor scaledLogWeights)
    {
        var a = scaledLogWeights;
        long k = a.shape[^1];
        if (k == 1) return full_like(a, double.NegativeInfinity);
        using var scope = NewDisposeScope();
        var shift = a.amax(new long[] { -1 }, keepdim: true).nan_to_num(0, neginf: 0);  // M [..., 1]; 0 for an all −∞ row
        var scaled = (a - shift).exp();                                                  // e [..., K] in [0, 1]
        var result = (scaled.sum(-1, keepdim: true) - scaled).log_() + shift;           // M + log(S − e_k), exact for k ≠ k*
        var dominant = a.argmax(-1, keepdim: true);                                      // k* [..., 1]
        var dominantOthers = a.scatter(-1, dominant, full_like(shift, double.NegativeInfinity)).logsumexp(-1, keepdim: true); // logsumexp_{l≠k*}
        return result.scatter_(-1, dominant, dominantOthers).MoveToOuterDisposeScope();
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
