using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Models;

[Collection("Torch")]
public class GaussianToyModelTests
{
    [Fact]
    public void LogDensitiesMatchTheClosedForms()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianToyModel(2, dtype: ScalarType.Float64, generator: new Generator(1));
        var x = tensor(new double[,] { { 0.5, -1.0 } }, dtype: float64);
        var z = tensor(new double[] { 0.2, 0.3 }, dtype: float64).view(1, 1, 2);
        var densities = model.Evaluate(x, new[] { z });
        double Normal(double v, double m, double s) => -0.5 * Math.Pow((v - m) / s, 2) - Math.Log(s) - 0.5 * Math.Log(2 * Math.PI);
        var mu = model.Mu.data<double>().ToArray();
        var A = model.Weight.data<double>().ToArray();
        var b = model.Bias.data<double>().ToArray();
        double[] xv = { 0.5, -1.0 }, zv = { 0.2, 0.3 };
        double logPrior = 0, logLikelihood = 0, logPosterior = 0;
        for (int d = 0; d < 2; d++)
        {
            logPrior += Normal(zv[d], mu[d], 1);
            logLikelihood += Normal(xv[d], zv[d], 1);
            double mean = xv[0] * A[0 * 2 + d] + xv[1] * A[1 * 2 + d] + b[d];
            logPosterior += Normal(zv[d], mean, 2.0 / 3.0);
        }
        Assert.Equal(logPrior, densities.LogPrior.item<double>(), 12);
        Assert.Equal(logLikelihood, densities.LogLikelihood.item<double>(), 12);
        Assert.Equal(logPosterior, densities.LogPosterior.item<double>(), 12);
    }

    [Fact]
    public void BothSpreadsAreAvailable()
    {
        Assert.Equal(2.0 / 3.0, new GaussianToyModel(3).PosteriorStd, 12);
        Assert.Equal(Math.Sqrt(2.0 / 3.0), new GaussianToyModel(3, GaussianToySpread.VarianceTwoThirds).PosteriorStd, 12);
    }

    [Fact]
    public void ReparameterisedSamplesCarryTheGradientToPhiOnly()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianToyModel(3, dtype: ScalarType.Float64, generator: new Generator(2));
        var (data, _) = GaussianToyModel.GenerateData(3, 4, dtype: ScalarType.Float64);
        var reparameterised = model.Forward(data, 2, new SamplingOptions(Reparameterize: true, Generator: new Generator(3)));
        Assert.True(reparameterised.Latents[0].requires_grad);
        var detached = model.Forward(data, 2, new SamplingOptions(Generator: new Generator(3)));
        Assert.False(detached.Latents[0].requires_grad);
        Assert.True(reparameterised.Latents[0].allclose(detached.Latents[0]));
    }

    [Fact]
    public void OptimumIsThePosteriorMeanMap()
    {
        using var scope = NewDisposeScope();
        var (data, trueMean) = GaussianToyModel.GenerateData(20, 1024, seed: 42, dtype: ScalarType.Float64);
        var model = new GaussianToyModel(20, dtype: ScalarType.Float64);
        model.SetOptimum(data);
        Assert.True(model.Mu.allclose(data.mean(new long[] { 0 })));
        Assert.True(model.Bias.allclose(model.Mu / 2));
        // The data mean is near μ_true (standard error √(2/1024) per coordinate).
        Assert.True((model.Mu - trueMean).abs().max().item<double>() < 5 * Math.Sqrt(2.0 / 1024));
    }
}
