using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// Rejects log-weights no bound can use: NaN (a model bug upstream) or +∞ (an infinite importance weight). −∞ is
/// allowed: a particle of zero weight, which every bound and control variate in Ovis handles without NaN.
/// </summary>
public static class LogWeightGuard
{
    /// <summary>Throw <see cref="InvalidOperationException"/> naming the estimator if any entry is NaN or +∞.</summary>
    public static void Check(Tensor logWeights, string estimator)
    {
        using var noGrad = no_grad();
        var bad = logWeights.detach().isnan().logical_or(logWeights.detach().isposinf());
        if (!bad.any().item<bool>()) return;
        long count = bad.sum().item<long>();
        throw new InvalidOperationException(
            $"{estimator}: {count} log-weight(s) are NaN or +∞ (of {logWeights.numel()}); check the model's log-densities for this batch");
    }
}
