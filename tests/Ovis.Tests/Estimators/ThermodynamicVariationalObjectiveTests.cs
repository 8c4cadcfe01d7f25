using Ovis.Analysis;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ovis.Tests.Estimators;

[Collection("Torch")]
public class ThermodynamicVariationalObjectiveTests(ITestOutputHelper output)
{
    private static ThermodynamicVariationalObjective Tvo(string id) => Assert.IsType<ThermodynamicVariationalObjective>(EstimatorRegistry.Create(id));

    [Fact]
    public void IdsParseIntoTheReferenceOptions()
    {
        var plain = Tvo("tvo");
        Assert.Equal((2, 10, ThermodynamicSchedule.Fixed, RiemannRule.Left), (plain.Intervals, plain.BetaExponent, plain.Schedule, plain.Rule));
        Assert.Equal(new[] { 0, 1e-10, 1 }, plain.Partition(5));
        var five = Tvo("tvo-part5-beta2");
        var lambda = five.Partition(3);
        var expected = new[] { 0, 1e-2, Math.Pow(10, -1.5), 1e-1, Math.Pow(10, -0.5), 1 };
        for (int j = 0; j < expected.Length; j++) Assert.Equal(expected[j], lambda[j], 14);
        Assert.Equal(new[] { 0.0, 1.0 }, Tvo("tvo-part1").Partition(4));
        var config = Tvo("tvo-part2-config1-trapz");
        Assert.Equal(0.05, config.Partition(5)[1]);
        Assert.Equal(0.2, config.Partition(10)[1]);
        Assert.Equal(0.3, config.Partition(30)[1]);
        Assert.Equal(0.01, Tvo("tvo-config2").Partition(9)[1]);
        Assert.Equal(0.03, Tvo("tvo-config2-right").Partition(50)[1]);
        foreach (var id in new[] { "tvo-part4-beta3-left", "tvo-part4-beta3-right", "tvo-part4-beta3-trapz" })
            Assert.Equal(1.0, Tvo(id).Multipliers(5).Sum(), 14);
        Assert.Equal(0, Tvo("tvo-part3-left").Multipliers(2)[3]);
        Assert.Equal(0, Tvo("tvo-part3-right").Multipliers(2)[0]);
        Assert.Throws<EstimatorIdException>(() => EstimatorRegistry.Create("tvo-part0"));
        Assert.Throws<EstimatorIdException>(() => EstimatorRegistry.Create("tvo-beta1.5"));
    }

    [Fact]
    public void OneIntervalLeftRuleValueIsTheAverageElbo()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create();
        var x = TinyModel.Data();
        var settings = new EstimatorSettings(4, OuterSamples: 3);
        var densities = model.Forward(x, 12, new SamplingOptions(Generator: new Generator(9)));
        var tvo = Tvo("tvo-part1-left");
        var scaled = densities.LogWeights(detachPosterior: false).view(2, 3, 4);
        Assert.True(tvo.Value(scaled).allclose(scaled.mean(new long[] { -1 }), rtol: 1e-12, atol: 1e-12));
        var result = tvo.Surrogate(densities, new EstimatorContext(settings, model, x));
        Assert.Equal(scaled.mean().ToDouble(), result.Mean("tvo/value"), 12);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void DefaultTvoIsTheUnbiasedElboGradientForKAtLeastTwo(int k)
    {
        // λ_1 = 1e−10: the heated weights are uniform and ρ_K makes the covariance unbiased, so
        // E[ĝ] = E_q[∇f] + Cov_q(f, ∇log q) = ∇ELBO up to O(λ_1).
        using var scope = NewDisposeScope();
        var oracle = new ExactOracle(TinyModel.Create(), TinyModel.Data());
        var elbo = oracle.Gradient(1);
        var moments = oracle.Moments(Tvo("tvo"), new EstimatorSettings(k));
        Assert.True(TinyModel.Distance(moments.PhiMean, elbo.Phi) <= 1e-8 * TinyModel.Norm(elbo.Phi));
        Assert.True(TinyModel.Distance(moments.ThetaMean, elbo.Theta) <= 1e-8 * TinyModel.Norm(elbo.Theta));
    }

    // Seed 3: on the default tiny model (seed 7) q is far from the annealed targets and the self-normalised bias
    // falls only slowly with K (0.56 at K = 2, 0.44 at K = 6 over both data points), as for wake-wake (ReweightedWakeSleepTests).
    [Fact]
    public void ExpectedGradientApproachesTheExactTvoGradientAsKGrows()
    {
        using var scope = NewDisposeScope();
        var oracle = new ExactOracle(TinyModel.Create(3), TinyModel.Data().narrow(0, 0, 1));   // x = (1, 0, 1)
        var tvo = Tvo("tvo-part3-beta1");
        var bias = new Dictionary<int, double>();
        foreach (var k in new[] { 1, 2, 3, 4, 6 })
        {
            var exact = oracle.ThermodynamicGradient(tvo.Partition(k), tvo.Multipliers(k));
            var target = exact.Theta.Concat(exact.Phi).ToArray();
            var moments = oracle.Moments(tvo, new EstimatorSettings(k));
            var mean = moments.ThetaMean.Concat(moments.PhiMean).ToArray();
            bias[k] = TinyModel.Distance(mean, target) / TinyModel.Norm(target);
            output.WriteLine($"{tvo.Id} K={k}: ‖E[ĝ] − ∇TVO‖/‖∇TVO‖ = {bias[k]:E4} " +
                             $"(θ {TinyModel.Distance(moments.ThetaMean, exact.Theta) / TinyModel.Norm(exact.Theta):E3}, " +
                             $"φ {TinyModel.Distance(moments.PhiMean, exact.Phi) / TinyModel.Norm(exact.Phi):E3})");
        }
        Assert.True(bias[6] < 0.5 * bias[2], $"K=6 bias {bias[6]:E3} is not well below the K=2 bias {bias[2]:E3}");
    }

    [Fact]
    public void OneIntervalTvoOracleIsTheElbo()
    {
        using var scope = NewDisposeScope();
        var oracle = new ExactOracle(TinyModel.Create(), TinyModel.Data());
        var tvo = oracle.ThermodynamicGradient(new[] { 0.0, 1.0 }, new[] { 1.0, 0.0 });
        var elbo = oracle.Gradient(1);
        Assert.Equal(elbo.Bound, tvo.Bound, 12);
        Assert.True(TinyModel.Distance(tvo.Phi, elbo.Phi) <= 1e-10 * TinyModel.Norm(elbo.Phi));
        Assert.True(TinyModel.Distance(tvo.Theta, elbo.Theta) <= 1e-10 * TinyModel.Norm(elbo.Theta));
    }
}
