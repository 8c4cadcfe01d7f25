using Ovis.Analysis;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Models;

[Collection("Torch")]
public class GaussianMixtureModelTests
{
    private static readonly double[] TruePrior = Enumerable.Range(0, 20).Select(c => (c + 5) / 290.0).ToArray();

    /// <summary>log π*_c + log N(x; 10c, 25) for every cluster, by hand.</summary>
    private static double[] TruePosteriorByHand(double x)
    {
        var logJoint = Enumerable.Range(0, 20).Select(c => Math.Log(TruePrior[c]) - 0.5 * Math.Pow((x - 10 * c) / 5, 2)).ToArray();
        double max = logJoint.Max();
        var unnormalised = logJoint.Select(v => Math.Exp(v - max)).ToArray();
        double sum = unnormalised.Sum();
        return unnormalised.Select(v => v / sum).ToArray();
    }

    [Fact]
    public void TruePriorAndPosteriorMatchTheirDefinitions()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianMixtureModel(dtype: ScalarType.Float64, generator: new Generator(1));
        Assert.Equal(TruePrior, model.TruePrior.data<double>().ToArray(), new ToleranceComparer(1e-15));
        var x = tensor(new[] { -3.0, 47.2, 130.0 }).unsqueeze(1);
        var posterior = model.TruePosterior(x);
        for (int b = 0; b < 3; b++)
            Assert.Equal(TruePosteriorByHand(x[b, 0].ToDouble()), posterior[b].data<double>().ToArray(), new ToleranceComparer(1e-12));
    }

    [Fact]
    public void PosteriorErrorIsZeroForTheTruePosteriorAndAnL2NormOtherwise()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianMixtureModel(dtype: ScalarType.Float64, generator: new Generator(1));
        var x = model.SampleData(50, new Generator(3));
        var truth = model.TruePosterior(x);
        Assert.Equal(0, GaussianMixtureModel.PosteriorError(truth, truth));
        // a uniform q: the error is the mean over x of the (unsquared) L2 distance to the uniform vector
        var uniform = full(50, 20, 1.0 / 20, dtype: float64);
        double expected = Enumerable.Range(0, 50).Average(b =>
            Math.Sqrt(TruePosteriorByHand(x[b, 0].ToDouble()).Sum(p => (p - 0.05) * (p - 0.05))));
        Assert.Equal(expected, GaussianMixtureModel.PosteriorError(uniform, truth), 12);
    }

    [Fact]
    public void PriorErrorIsTheL2DistanceOfSoftmaxThetaToTheTruePrior()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianMixtureModel(dtype: ScalarType.Float64, generator: new Generator(1));
        // θ = 0 at initialisation: uniform prior
        Assert.Equal(Math.Sqrt(TruePrior.Sum(p => (p - 0.05) * (p - 0.05))), model.PriorError(), 14);
        using (no_grad()) model.PriorLogits.copy_(tensor(TruePrior.Select(p => Math.Log(p)).ToArray()) + 3.7);
        Assert.True(model.PriorError() < 1e-15);
    }

    [Fact]
    public void NetworkSetToTheTruePosteriorHasZeroPosteriorError()
    {
        // With the true prior, log p(c|x) = log π*_c + (2c/5)·x − 2c² + const(x): linear in x. One tanh unit in its
        // linear regime (weight ε) carries x, so η_φ can be set to the exact posterior logits up to O(ε²x³).
        using var scope = NewDisposeScope();
        var model = new GaussianMixtureModel(dtype: ScalarType.Float64, generator: new Generator(1));
        const double epsilon = 1e-6;
        var parameters = model.InferenceParameters();   // hidden weight [16, 1], hidden bias [16], output weight [20, 16], output bias [20]
        using (no_grad())
        {
            foreach (var p in parameters) p.zero_();
            parameters[0][0, 0] = epsilon;
            for (int c = 0; c < 20; c++)
            {
                parameters[2][c, 0] = 2.0 * c / 5 / epsilon;
                parameters[3][c] = Math.Log(TruePrior[c]) - 2.0 * c * c;
            }
            model.PriorLogits.copy_(tensor(TruePrior.Select(p => Math.Log(p)).ToArray()));
        }
        var x = model.SampleData(200, new Generator(5));
        Assert.True(model.PosteriorError(x) < 1e-4, $"posterior error {model.PosteriorError(x):E3}");
        Assert.True(model.PriorError() < 1e-15);
        // and an untrained network is far from it
        var untrained = new GaussianMixtureModel(dtype: ScalarType.Float64, generator: new Generator(1));
        Assert.True(untrained.PosteriorError(x) > 0.3);
    }

    [Fact]
    public void EvaluateGivesThePerClusterLogDensities()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianMixtureModel(dtype: ScalarType.Float64, generator: new Generator(2));
        using (no_grad()) model.PriorLogits.copy_(randn(20, dtype: float64, generator: new Generator(9)));
        var x = tensor(new[] { 12.5, 80.0 }).unsqueeze(1);                                       // [2, 1]
        var configurations = model.EnumerateConfigurations()[0];                                  // [20, 20]
        var densities = model.Evaluate(x, new[] { configurations.unsqueeze(0).expand(2, -1, -1) });
        var logPrior = model.PriorLogits.log_softmax(0);
        var logq = model.PosteriorLogits(x).log_softmax(-1);
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 20; c++)
            {
                double xb = x[b, 0].ToDouble();
                double logLikelihood = -0.5 * Math.Pow((xb - 10 * c) / 5, 2) - Math.Log(5) - 0.5 * Math.Log(2 * Math.PI);
                Assert.Equal(logLikelihood, densities.LogLikelihood[b, c].ToDouble(), 12);
                Assert.Equal(logPrior[c].ToDouble(), densities.LogPrior[b, c, 0].ToDouble(), 12);
                Assert.Equal(logq[b, c].ToDouble(), densities.LogPosterior[b, c, 0].ToDouble(), 12);
            }
        // q sums to one over the enumerated configurations
        Assert.Equal(1.0, densities.LogPosterior[0, TensorIndex.Colon, 0].exp().sum().ToDouble(), 12);
    }

    [Fact]
    public void SamplesAreOneHotDrawsFromQ()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianMixtureModel(dtype: ScalarType.Float64, generator: new Generator(4));
        var x = tensor(new[] { 40.0 }).unsqueeze(1);
        const int draws = 20000;
        var z = model.Sample(x, draws, new SamplingOptions(Generator: new Generator(6)))[0];     // [1, P, 20]
        Assert.Equal(new long[] { 1, draws, 20 }, z.shape);
        Assert.True(z.sum(-1).eq(1).all().item<bool>());
        var frequency = z[0].mean(new long[] { 0 });                                               // [20]
        var q = model.PosteriorLogits(x).softmax(-1)[0].detach();
        var standardError = (q * (1 - q) / draws).sqrt();
        var z_scores = ((frequency - q).abs() / standardError.clamp_min(1e-12)).max().ToDouble();
        Assert.True(z_scores < 4.5, $"largest |z| of the category frequencies {z_scores:F2}");
    }

    [Fact]
    public void DataStreamHasTheTrueMeanAndVariance()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianMixtureModel(dtype: ScalarType.Float64, generator: new Generator(1));
        const int count = 20000;
        var x = model.SampleData(count, new Generator(11));
        double meanC = Enumerable.Range(0, 20).Sum(c => c * TruePrior[c]);
        double varC = Enumerable.Range(0, 20).Sum(c => c * c * TruePrior[c]) - meanC * meanC;
        double mean = 10 * meanC, variance = 100 * varC + 25;
        double observed = x.mean().ToDouble();
        Assert.True(Math.Abs(observed - mean) < 4 * Math.Sqrt(variance / count), $"mean {observed} vs {mean}");
        double observedVariance = x.var().ToDouble();
        // standard error of the sample variance ≈ σ²·√(2/n) (generous for the non-Gaussian mixture: ×2)
        Assert.True(Math.Abs(observedVariance - variance) < 4 * 2 * variance * Math.Sqrt(2.0 / count), $"variance {observedVariance} vs {variance}");
    }

    [Theory]
    [InlineData("ovis-gamma0")]
    [InlineData("reinforce")]
    [InlineData("vimco-arithmetic")]
    public void UnbiasedEstimatorsMatchTheExactGradientOnTheMixture(string id)
    {
        using var scope = NewDisposeScope();
        var model = new GaussianMixtureModel(dtype: ScalarType.Float64, generator: new Generator(3));
        using (no_grad()) model.PriorLogits.copy_(randn(20, dtype: float64, generator: new Generator(8)) * 0.5);
        var data = tensor(new[] { 23.0, 61.0 }).unsqueeze(1);
        var oracle = new ExactOracle(model, data);
        Assert.Equal(20, oracle.Configurations);
        var exact = oracle.Gradient(3);
        var moments = oracle.Moments(EstimatorRegistry.Create(id), new EstimatorSettings(3));
        Assert.True(TinyModel.Norm(exact.Phi) > 1e-3 && TinyModel.Norm(exact.Theta) > 1e-3);
        Assert.True(TinyModel.Distance(moments.PhiMean, exact.Phi) <= 1e-9 * TinyModel.Norm(exact.Phi),
            $"φ relative bias {TinyModel.Distance(moments.PhiMean, exact.Phi) / TinyModel.Norm(exact.Phi):E3}");
        Assert.True(TinyModel.Distance(moments.ThetaMean, exact.Theta) <= 1e-9 * TinyModel.Norm(exact.Theta),
            $"θ relative bias {TinyModel.Distance(moments.ThetaMean, exact.Theta) / TinyModel.Norm(exact.Theta):E3}");
        Assert.True(moments.PhiVariance > 0);
    }

    [Fact]
    public void OvisGammaOneIsBiasedOnTheMixtureAsClaimed()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianMixtureModel(dtype: ScalarType.Float64, generator: new Generator(3));
        var oracle = new ExactOracle(model, tensor(new[] { 23.0, 61.0 }).unsqueeze(1));
        var verification = new EstimatorVerifier(oracle).Verify(EstimatorRegistry.Create("ovis-gamma1"), 3, 0);
        Assert.True(verification.ClaimHolds, $"ovis-gamma1 claim residual {verification.ClaimResidual}");
        Assert.True(verification.PhiRelativeBias > 1e-6);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(double value) => 0;
    }
}
