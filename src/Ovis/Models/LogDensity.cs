using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>Element-wise log-densities written in their numerically stable forms (platform.md §5.1).</summary>
public static class LogDensity
{
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>log Bern(value; sigmoid(logits)) = value·logits − softplus(logits), stable for any logit.</summary>
    public static Tensor Bernoulli(Tensor value, Tensor logits) => value * logits - nn.functional.softplus(logits);

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
