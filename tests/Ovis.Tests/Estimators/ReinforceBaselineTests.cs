using Ovis.Analysis;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ovis.Tests.Estimators;

[Collection("Torch")]
public class ReinforceBaselineTests(ITestOutputHelper output)
{
    /// <summary>Fit ψ alone for <paramref name="steps"/> Adam steps (lr 5e-3) on the tiny model; returns reinforce/mse per step.</summary>
    private static List<double> Fit(ReinforceBaseline estimator, SigmoidBeliefNetwork model, int steps)
    {
        var x = TinyModel.Data();
        var generator = new Generator(13);
        var settings = new EstimatorSettings(3);
        estimator.Build(x.shape[1], float64);
        var optimizer = optim.Adam(estimator.BaselineParameters(), lr: ReinforceBaseline.RecommendedLearningRate);
        var mse = new List<double>();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var result = estimator.Compute(new EstimatorContext(settings, model, x, generator));
            var psi = estimator.BaselineParameters().Cast<Tensor>().ToArray();
            var gradients = torch.autograd.grad(new[] { result.Loss }, psi);
            for (int i = 0; i < psi.Length; i++) psi[i].grad = gradients[i].detach().clone().MoveToOuterDisposeScope();
            optimizer.step();
            mse.Add(result.Mean(DiagnosticKeys.ControlVariateMse));
        }
        return mse;
    }

    [Fact]
    public void BaselineMseDecreasesDuringAShortFit()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        var model = TinyModel.Create();
        var mse = Fit(new ReinforceBaseline(), model, 150);
        double first = mse.Take(20).Average(), last = mse.Skip(mse.Count - 20).Average();
        output.WriteLine($"reinforce/mse: first 20 steps {first:F4}, last 20 steps {last:F4}");
        Assert.True(last < 0.25 * first, $"the baseline's MSE went from {first} to {last}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void FittedBaselineKeepsTheEstimatorUnbiasedUnderTheExactOracle(int k)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        var model = TinyModel.Create();
        var estimator = new ReinforceBaseline();
        Fit(estimator, model, 40);
        var oracle = new ExactOracle(model, TinyModel.Data());
        var exact = oracle.Gradient(k);
        var moments = oracle.Moments(estimator, new EstimatorSettings(k));
        Assert.True(TinyModel.Distance(moments.PhiMean, exact.Phi) <= 1e-9 * TinyModel.Norm(exact.Phi),
            $"φ relative bias {TinyModel.Distance(moments.PhiMean, exact.Phi) / TinyModel.Norm(exact.Phi):E3}");
        Assert.True(TinyModel.Distance(moments.ThetaMean, exact.Theta) <= 1e-9 * TinyModel.Norm(exact.Theta));
        // The baseline really acts: the φ-variance differs from plain REINFORCE's.
        var plain = oracle.Moments(new Reinforce(), new EstimatorSettings(k));
        output.WriteLine($"K={k}: φ-variance reinforce {plain.PhiVariance:E4}, reinforce-baseline {moments.PhiVariance:E4}");
        Assert.True(moments.PhiVariance < plain.PhiVariance);
        var verified = new EstimatorVerifier(oracle).Verify(estimator, k, 0);
        Assert.True(verified.ClaimHolds);
    }

    [Fact]
    public void ParametersAreOwnedAndAvailableOnlyOnceBuilt()
    {
        var estimator = new ReinforceBaseline();
        Assert.Throws<InvalidOperationException>(() => estimator.BaselineParameters());
        estimator.Build(3, float64);
        Assert.Equal(4, estimator.BaselineParameters().Count);
        Assert.Throws<ArgumentException>(() => estimator.Build(5, float64));
    }
}
