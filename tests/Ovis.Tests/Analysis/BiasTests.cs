using Ovis.Analysis;
using Ovis.Estimators;
using static TorchSharp.torch;

namespace Ovis.Tests.Analysis;

/// <summary>The biased estimators show exactly their derived bias (docs/estimators.md §4.4), checked as vectors.</summary>
[Collection("Torch")]
public class BiasTests
{
    [Theory]
    [InlineData(0.5, 2, 0.0)]
    [InlineData(1.0, 3, 0.0)]
    [InlineData(0.25, 4, 0.0)]
    [InlineData(1.0, 3, 0.5)]
    public void OvisGammaBiasIsGammaTimesTheWakeDirection(double gamma, int k, double alpha)
    {
        using var scope = NewDisposeScope();
        var oracle = new ExactOracle(TinyModel.Create(), TinyModel.Data());
        var exact = oracle.Gradient(k, alpha);
        var wake = oracle.WakeDirection(k, alpha);
        var moments = oracle.Moments(new OvisAsymptotic(gamma), new EstimatorSettings(k, Alpha: alpha));
        var bias = moments.PhiMean.Zip(exact.Phi, (m, g) => m - g).ToArray();
        var predicted = wake.Select(w => gamma * w).ToArray();
        Assert.True(TinyModel.Norm(bias) > 1e-3, "the bias must be visible");
        Assert.True(TinyModel.Distance(bias, predicted) <= 1e-10 * TinyModel.Norm(predicted),
            $"bias differs from γ·wake by {TinyModel.Distance(bias, predicted) / TinyModel.Norm(predicted):E2} (relative)");
        Assert.True(TinyModel.Distance(moments.ThetaMean, exact.Theta) <= 1e-10 * TinyModel.Norm(exact.Theta));
    }

    [Theory]
    [InlineData(0.0, 3, 0.5)]
    [InlineData(0.5, 3, 0.5)]
    [InlineData(1.0, 2, 0.3)]
    public void ReferenceFormHasItsDerivedRenyiBias(double gamma, int k, double alpha)
    {
        using var scope = NewDisposeScope();
        var oracle = new ExactOracle(TinyModel.Create(), TinyModel.Data());
        var exact = oracle.Gradient(k, alpha);
        var wake = oracle.WakeDirection(k, alpha);
        var moments = oracle.Moments(new OvisAsymptotic(gamma, OvisAsymptoticForm.Reference), new EstimatorSettings(k, Alpha: alpha));
        // E[ĝ_φ] = (1 − α)∇_φ L + (γ − α)·E[Σ_k v_k h_k]   (docs/estimators.md §4.4)
        var predicted = exact.Phi.Zip(wake, (g, w) => (1 - alpha) * g + (gamma - alpha) * w).ToArray();
        Assert.True(TinyModel.Distance(moments.PhiMean, predicted) <= 1e-10 * TinyModel.Norm(exact.Phi));
        Assert.True(TinyModel.Distance(moments.PhiMean, exact.Phi) > 1e-3 * TinyModel.Norm(exact.Phi), "the reference form is biased at α ≠ 0");
    }

    [Fact]
    public void InclusiveOvisMonteCarloFollowsTwoBounds()
    {
        using var scope = NewDisposeScope();
        var oracle = new ExactOracle(TinyModel.Create(), TinyModel.Data());
        var estimator = EstimatorRegistry.Create("ovis-S1");
        Assert.Equal((3, 4), estimator.TargetParticles(4));
        var phiTarget = oracle.Gradient(3, 0);
        var thetaTarget = oracle.Gradient(4, 0);
        var moments = oracle.Moments(estimator, new EstimatorSettings(4));
        Assert.True(TinyModel.Distance(moments.PhiMean, phiTarget.Phi) <= 1e-10 * TinyModel.Norm(phiTarget.Phi));
        Assert.True(TinyModel.Distance(moments.ThetaMean, thetaTarget.Theta) <= 1e-10 * TinyModel.Norm(thetaTarget.Theta));
    }

    [Fact]
    public void ExactBoundRisesWithKAndMatchesTheLogEvidenceInTheLimit()
    {
        using var scope = NewDisposeScope();
        var oracle = new ExactOracle(TinyModel.Create(), TinyModel.Data());
        var bounds = new[] { 1, 2, 3, 4 }.Select(k => oracle.Gradient(k, 0).Bound).ToArray();
        for (int i = 1; i < bounds.Length; i++) Assert.True(bounds[i] > bounds[i - 1], $"L_{i + 1} = {bounds[i]} ≤ L_{i} = {bounds[i - 1]}");
    }
}
