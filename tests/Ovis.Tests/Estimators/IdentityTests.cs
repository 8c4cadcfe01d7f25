using Ovis.Estimators;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Estimators;

/// <summary>The exact identities between control variates of docs/estimators.md §8.3 and §11, in float64.</summary>
[Collection("Torch")]
public class IdentityTests
{
    private static (LearningSignal signal, Tensor aux) Signal(int k, ulong seed, double alpha = 0)
    {
        var generator = new Generator(seed);
        var a = randn(new long[] { 3, 2, k }, dtype: float64, generator: generator) * 2;     // [B, M, K]
        var aux = randn(new long[] { 3, 2, 4 }, dtype: float64, generator: generator) * 2;   // [B, M, S]
        return (new LearningSignal(a, alpha, aux), aux);
    }

    private static Tensor ControlVariate(string id, LearningSignal s) => ((ScoreFunctionEstimator)EstimatorRegistry.Create(id)).ControlVariateOf(s);

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(50)]
    public void VimcoArithmeticIsOvisGammaZeroPlusPureNoise(int k)
    {
        var (s, _) = Signal(k, 1);
        // c^VIMCO-arith = c^OVIS~(0) − log(1 − 1/K): the difference is a constant, so its φ-term has mean 0.
        var difference = ControlVariate("vimco-arithmetic", s) - ControlVariate("ovis-gamma0", s);
        Assert.True((difference + Math.Log(1 - 1.0 / k)).abs().max().item<double>() < 1e-12);
    }

    [Theory]
    [InlineData(0.3, 5)]
    [InlineData(1.0, 20)]
    public void OvisGammaIsOvisZeroPlusGammaTimesTheWakeTerm(double gamma, int k)
    {
        var (s, _) = Signal(k, 2);
        var c0 = ControlVariate("ovis-gamma0", s);
        var cg = ControlVariate(OvisAsymptotic.CanonicalId(gamma, OvisAsymptoticForm.Arithmetic), s);
        // r_γ = r_0 + γ(v + log(1 − 1/K))  ⇔  c_γ = c_0 − γ(v + log(1 − 1/K))
        var expected = c0 - gamma * (s.Weights + Math.Log(1 - 1.0 / k));
        Assert.True((cg - expected).abs().max().item<double>() < 1e-12);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.6)]
    public void ArithmeticControlVariateIsTheLeaveOneOutBound(double alpha)
    {
        var (s, _) = Signal(6, 3, alpha);
        var a = s.ScaledLogWeights;
        var c = ControlVariate("vimco-arithmetic", s);
        for (int k = 0; k < 6; k++)
        {
            var others = cat(new[] { a.narrow(-1, 0, k), a.narrow(-1, k + 1, 5 - k) }, -1);
            var expected = Ovis.Bounds.ImportanceWeightedBound.FromScaledLogWeights(others, alpha);  // (1/(1−α)) log mean_{l≠k} w_l^{1−α}
            Assert.True((c.select(-1, k) - expected).abs().max().item<double>() < 1e-12);
        }
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(3, 0.0)]
    [InlineData(4, 0.5)]
    public void OvisMonteCarloMatchesTheSubstitutionDefinition(int k, double alpha)
    {
        // The O(S·K) form against the [S, K, K] construction of eq. (12): substitute aux_s into slot k, recompute L and v.
        var (s, aux) = Signal(k, 4, alpha);
        var c = ControlVariate("ovis-S4-exclusive", s);
        var a = s.ScaledLogWeights;
        for (int slot = 0; slot < k; slot++)
        {
            var terms = new List<Tensor>();
            for (int j = 0; j < 4; j++)
            {
                var substituted = a.clone();
                substituted.select(-1, slot).copy_(aux.select(-1, j));
                var bound = Ovis.Bounds.ImportanceWeightedBound.FromScaledLogWeights(substituted, alpha);
                var weight = substituted.softmax(-1).select(-1, slot);
                terms.Add(bound - weight);
            }
            var expected = stack(terms, -1).mean(new long[] { -1 });
            Assert.True((c.select(-1, slot) - expected).abs().max().item<double>() < 1e-12);
        }
    }
}
