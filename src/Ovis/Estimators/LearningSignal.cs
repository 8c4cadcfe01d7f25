using Ovis.Bounds;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// The quantities every control variate is built from (docs/estimators.md §1), computed once under no-grad from the
/// scaled log-weights of the score particles: L = (logsumexp_k a_k − log K)/(1−α) [B, M], v = softmax_k(a) and the
/// learning signal d_k = L − v_k [B, M, K]. OVIS_MC also sees its auxiliary particles' scaled log-weights.
/// </summary>
public sealed class LearningSignal
{
    private Tensor? leaveOneOut;

    /// <summary>Build the signal from detached scaled log-weights.</summary>
    /// <param name="scaledLogWeights">a_k = (1−α) log w_k of the K score particles, [B, M, K].</param>
    /// <param name="alpha">α.</param>
    /// <param name="auxiliaryScaledLogWeights">a'_s of the S auxiliary particles, [B, M, S], or null.</param>
    public LearningSignal(Tensor scaledLogWeights, double alpha, Tensor? auxiliaryScaledLogWeights = null)
    {
        ScaledLogWeights = scaledLogWeights;
        Alpha = alpha;
        AuxiliaryScaledLogWeights = auxiliaryScaledLogWeights;
        Bound = ImportanceWeightedBound.FromScaledLogWeights(scaledLogWeights, alpha);
        Weights = NormalizedWeights.FromScaledLogWeights(scaledLogWeights);
        Signal = Bound.unsqueeze(-1) - Weights;
    }

    /// <summary>a, [B, M, K].</summary>
    public Tensor ScaledLogWeights { get; }

    /// <summary>a' of the auxiliary particles, [B, M, S], or null.</summary>
    public Tensor? AuxiliaryScaledLogWeights { get; }

    /// <summary>α.</summary>
    public double Alpha { get; }

    /// <summary>K, the number of score particles.</summary>
    public long Particles => ScaledLogWeights.shape[^1];

    /// <summary>L, the bound over the score particles, [B, M].</summary>
    public Tensor Bound { get; }

    /// <summary>v_k, the normalised tempered weights, [B, M, K].</summary>
    public Tensor Weights { get; }

    /// <summary>d_k = L − v_k, [B, M, K].</summary>
    public Tensor Signal { get; }

    /// <summary>LOO_k = logsumexp_{l≠k} a_l, exact and O(K) (<see cref="LeaveOneOut"/>), [B, M, K].</summary>
    public Tensor LeaveOneOutLogSumExp => leaveOneOut ??= LeaveOneOut.LogSumExpExcludingEach(ScaledLogWeights);

    /// <summary>Divide by (1 − α), the factor that turns a scaled log-mean into the IWR bound.</summary>
    public Tensor Unscale(Tensor scaled) => Alpha == 0 ? scaled : scaled / (1 - Alpha);
}
