using Ovis.Analysis;
using Ovis.Estimators;
using static TorchSharp.torch;

namespace Ovis.Tests.Analysis;

[Collection("Torch")]
public class ExactOracleTests
{
    public static TheoryData<string, int, double> UnbiasedCases()
    {
        var data = new TheoryData<string, int, double>();
        foreach (var id in new[] { "reinforce", "vimco-arithmetic", "vimco-geometric", "ovis-gamma0", "ovis-S1-exclusive", "ovis-S2-exclusive", "ovis-S1", "ovis-gamma0-geometric" })
            foreach (var k in new[] { 2, 3, 4 })
                foreach (var alpha in new[] { 0.0, 0.5 })
                    data.Add(id, k, alpha);
        return data;
    }

    [Theory]
    [MemberData(nameof(UnbiasedCases))]
    public void UnbiasedEstimatorsMatchTheExactGradient(string id, int k, double alpha)
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create();
        var oracle = new ExactOracle(model, TinyModel.Data());
        var estimator = EstimatorRegistry.Create(id);
        var (phiK, thetaK) = estimator.TargetParticles(k);
        var exact = oracle.Gradient(phiK, thetaK, alpha);
        var moments = oracle.Moments(estimator, new EstimatorSettings(k, Alpha: alpha));
        Assert.True(TinyModel.Norm(exact.Phi) > 1e-3 && TinyModel.Norm(exact.Theta) > 1e-3);
        Assert.True(TinyModel.Distance(moments.PhiMean, exact.Phi) <= 1e-9 * TinyModel.Norm(exact.Phi),
            $"φ relative bias {TinyModel.Distance(moments.PhiMean, exact.Phi) / TinyModel.Norm(exact.Phi):E3}");
        Assert.True(TinyModel.Distance(moments.ThetaMean, exact.Theta) <= 1e-9 * TinyModel.Norm(exact.Theta),
            $"θ relative bias {TinyModel.Distance(moments.ThetaMean, exact.Theta) / TinyModel.Norm(exact.Theta):E3}");
        Assert.True(moments.PhiVariance > 0 && double.IsFinite(moments.PhiVariance));
    }
}
