using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// Rejects log-weights no bound can use: NaN (a model bug upstream) or +∞ (an infinite importance weight). −∞ is
/// allowed: a particle of zero weight, which every bound and control variate in Ovis handles without NaN.
/// </summary>
public static class LogWeightGuard
{
    /// <summary>Throw <see cref="NonFiniteLogWeightsException"/> naming the estimator if any entry is NaN or +∞.</summary>
    public static void Check(Tensor logWeights, string estimator)
    {
        using var noGrad = no_grad();
        var detached = logWeights.detach();
        // One reduction on the hot path: the maximum is NaN if any entry is NaN (max propagates NaN) and +∞ if any is.
        if (detached.numel() == 0) return;
        using (var largest = detached.max())
            if (largest.ToDouble() < double.PositiveInfinity) return;
        long count = detached.isnan().logical_or(detached.isposinf()).sum().item<long>();
        throw new NonFiniteLogWeightsException(
            $"{estimator}: {count} log-weight(s) are NaN or +∞ (of {logWeights.numel()}); check the model's log-densities for this batch");
    }
}

/// <summary>Log-weights were NaN or +∞: a model bug upstream, or training that has diverged.</summary>
public sealed class NonFiniteLogWeightsException : InvalidOperationException
{
    /// <summary>Create the exception.</summary>
    public NonFiniteLogWeightsException(string message) : base(message) { }
}
