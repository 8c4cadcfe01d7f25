using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// The output of one estimator evaluation: the scalar surrogate loss whose gradient is the (negated) gradient
/// estimate, and the per-data-point diagnostics of docs/estimators.md §6, all detached.
/// </summary>
public sealed class EstimatorResult
{
    /// <summary>Create a result.</summary>
    public EstimatorResult(Tensor loss, IReadOnlyDictionary<string, Tensor> diagnostics)
    {
        Loss = loss;
        Diagnostics = diagnostics;
    }

    /// <summary>The scalar surrogate loss; <c>Loss.backward()</c> yields minus the gradient estimate.</summary>
    public Tensor Loss { get; }

    /// <summary>Per-data-point diagnostics [B], keyed as in docs/estimators.md §6 (<c>loss/L_k</c>, <c>loss/ess</c>, ...).</summary>
    public IReadOnlyDictionary<string, Tensor> Diagnostics { get; }

    /// <summary>The batch mean of a diagnostic as a double.</summary>
    public double Mean(string key) => Diagnostics[key].mean().ToDouble();
}

/// <summary>The names of the diagnostics every estimator returns (docs/estimators.md §6).</summary>
public static class DiagnosticKeys
{
    /// <summary>mean_m L, the bound the generative parameters are trained on.</summary>
    public const string Bound = "loss/L_k";
    /// <summary>mean_{m,k} a_k, the ELBO (scaled by (1−α) and with β_KL, as in the reference).</summary>
    public const string Elbo = "loss/elbo";
    /// <summary>−mean_{m,k} log p(x|z).</summary>
    public const string NegativeLogLikelihood = "loss/nll";
    /// <summary>−elbo − nll.</summary>
    public const string Kl = "loss/kl";
    /// <summary>L_k − elbo, an estimate of KL(q ‖ p(z|x)) for large K.</summary>
    public const string KlPosterior = "loss/kl_q_p";
    /// <summary>mean_m (Σw)²/Σw², the effective sample size.</summary>
    public const string EffectiveSampleSize = "loss/ess";
    /// <summary>mean_{m,k} (c_k − d_k)², the control variate's mean squared error (score-function family).</summary>
    public const string ControlVariateMse = "reinforce/mse";
}
