using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>Element-wise log-densities written in their numerically stable forms (docs/platform.md §5.1).</summary>
public static class LogDensity
{
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>
    /// log Bern(value; sigmoid(logits)) = value·logits − softplus(logits), stable for any logit; computed by the
    /// fused binary-cross-entropy-with-logits kernel (one output tensor and one backward kernel instead of three).
    /// <paramref name="value"/> broadcasts against <paramref name="logits"/>.
    /// </summary>
    public static Tensor Bernoulli(Tensor value, Tensor logits) => -CrossEntropy(value, logits);

    /// <summary>
    /// Σ over the last axis of <see cref="Bernoulli"/>, [..., D] → [...]. The element-wise tensor is released as soon as
    /// it is summed (autograd keeps only the logits and values it needs), instead of living until the end of the
    /// enclosing dispose scope: at K = 5000 on the SBN each such [B·K, 784] float32 tensor is 376 MB.
    /// </summary>
    public static Tensor BernoulliSum(Tensor value, Tensor logits)
    {
        using var elementwise = CrossEntropy(value, logits);
        return elementwise.sum(-1).neg_();
    }

    /// <summary>−log Bern(value; sigmoid(logits)) element-wise, by the fused binary-cross-entropy-with-logits kernel.</summary>
    private static Tensor CrossEntropy(Tensor value, Tensor logits)
        => nn.functional.binary_cross_entropy_with_logits(logits, value.expand_as(logits), reduction: nn.Reduction.None);

    /// <summary>log N(value; mean, std²) = −½((value − mean)/std)² − log std − ½ log 2π.</summary>
    public static Tensor Normal(Tensor value, Tensor mean, Tensor std)
    {
        var standardized = (value - mean) / std;
        return -0.5 * standardized.square() - std.log() - HalfLogTwoPi;
    }

    /// <summary>log N(value; mean, std²) with a fixed scalar standard deviation.</summary>
    public static Tensor Normal(Tensor value, Tensor mean, double std)
    {
        var standardized = (value - mean) / std;
        return -0.5 * standardized.square() - (Math.Log(std) + HalfLogTwoPi);
    }
}
