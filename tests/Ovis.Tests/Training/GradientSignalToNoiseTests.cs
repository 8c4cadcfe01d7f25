using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Training;

[Collection("Torch")]
public class GradientSignalToNoiseTests
{
    [Fact]
    public void StatisticsOfConstructedDrawsMatchTheHandComputation()
    {
        using var scope = NewDisposeScope();
        // coordinate 0: draws 1, 3, 2, 2 → mean 2, unbiased variance 2/3; coordinate 1: 1, −1, 2, −2 → mean 0, variance 10/3
        var draws = tensor(new double[,] { { 1, 1 }, { 3, -1 }, { 2, 2 }, { 2, -2 } });
        var stats = GradientSignalToNoise.Statistics(draws, 1e-9);
        Assert.Equal((2 / Math.Sqrt(2.0 / 3) + 0) / 2, stats[GradientSignalToNoise.Snr], 12);
        Assert.Equal((2.0 / 3 + 10.0 / 3) / 2, stats[GradientSignalToNoise.Variance], 12);
        Assert.Equal(1.0, stats[GradientSignalToNoise.Magnitude], 12);
        Assert.Equal(1.0, stats[GradientSignalToNoise.KeepRatio], 12);
        // u = (1, 0): |parallel| / |orthogonal| = 1/1, 3/1, 2/2, 2/2 → mean 1.5
        Assert.Equal(1.5, stats[GradientSignalToNoise.DirectionalSnr], 6);
    }

    [Fact]
    public void CoordinatesWithoutVarianceAreMaskedOut()
    {
        using var scope = NewDisposeScope();
        var draws = tensor(new double[,] { { 1, 5 }, { 3, 5 }, { 2, 5 } });
        var stats = GradientSignalToNoise.Statistics(draws, 1e-9);
        Assert.Equal(0.5, stats[GradientSignalToNoise.KeepRatio]);
        Assert.Equal(2.0, stats[GradientSignalToNoise.Snr], 12);       // coordinate 0 only: mean 2, σ 1
        Assert.Equal(2.0, stats[GradientSignalToNoise.Magnitude], 12);
    }

    [Fact]
    public void MeasureDifferentiatesFreshDrawsOfTheLoss()
    {
        using var scope = NewDisposeScope();
        // loss = w·ξ with ξ ~ N(μ, 1) per draw: gradient ξ, so SNR_d ≈ |μ_d| (N = 4000, tolerance from the SE)
        var weight = new TorchSharp.Modules.Parameter(zeros(2, dtype: float64));
        var generator = new Generator(5);
        var mu = tensor(new[] { 2.0, 0.5 });
        const int draws = 4000;
        var stats = GradientSignalToNoise.Measure(() => (weight * (mu + randn(2, dtype: float64, generator: generator))).sum(),
                                                  new[] { weight }, draws, 1e-9);
        // SNR estimate of each coordinate has SE ≈ √((1 + μ²/2)/N); the mean of two has half the summed variance
        double standardError = Math.Sqrt(((1 + 2.0) + (1 + 0.125)) / draws) / 2;
        Assert.True(Math.Abs(stats[GradientSignalToNoise.Snr] - 1.25) < 4 * standardError, $"SNR {stats[GradientSignalToNoise.Snr]}");
        Assert.True(Math.Abs(stats[GradientSignalToNoise.Variance] - 1) < 4 * Math.Sqrt(2.0 / draws / 2), $"variance {stats[GradientSignalToNoise.Variance]}");
    }
}
