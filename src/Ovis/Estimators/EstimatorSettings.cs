using TorchSharp;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// The sizes and bound parameters of one estimator evaluation (docs/estimators.md §1, §5.1).
/// </summary>
/// <param name="Particles">K, the number of importance particles of the bound (≥ 1).</param>
/// <param name="OuterSamples">M, the number of outer Monte Carlo copies (default 1).</param>
/// <param name="Alpha">α, the Rényi parameter of the IWR bound, in [0, 1) (0 is the IWAE bound).</param>
/// <param name="KlWeight">β_KL, the weight of log q − log p(z) in the log-weight (1 for the true bound).</param>
public sealed record EstimatorSettings(int Particles, int OuterSamples = 1, double Alpha = 0, double KlWeight = 1)
{
    /// <summary>Throw a clear error when a size or parameter is out of range.</summary>
    public void Validate()
    {
        if (Particles < 1) throw new ArgumentOutOfRangeException(nameof(Particles), Particles, "K, the number of particles, must be at least 1");
        if (OuterSamples < 1) throw new ArgumentOutOfRangeException(nameof(OuterSamples), OuterSamples, "M, the number of outer samples, must be at least 1");
        Bounds.RenyiAlpha.Check(Alpha);
        if (!(KlWeight >= 0) || double.IsInfinity(KlWeight)) throw new ArgumentOutOfRangeException(nameof(KlWeight), KlWeight, "β_KL must be finite and non-negative");
    }
}

/// <summary>
/// Everything an estimator may need besides the particles' log-densities: the model (sleep-phase sampling), the
/// data (neural baselines) and the random generator.
/// </summary>
/// <param name="Settings">K, M, α, β_KL.</param>
/// <param name="Model">the model that produced the particles.</param>
/// <param name="Data">the data points x, [B, ...].</param>
/// <param name="Generator">the random generator of the run (null: the global one).</param>
/// <param name="Diagnostics">whether to compute the per-point diagnostics of docs/estimators.md §6 (bound, ELBO, ESS, …);
/// callers that only differentiate the loss (the gradient analysis, the trainer's SNR probe) turn them off, which
/// saves about a tenth of a score-function evaluation at large K.</param>
public sealed record EstimatorContext(EstimatorSettings Settings, LatentVariableModel Model, Tensor Data, Generator? Generator = null, bool Diagnostics = true);
