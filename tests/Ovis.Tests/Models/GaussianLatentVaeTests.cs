using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Models;

/// <summary>What <see cref="GaussianLatentVae"/> implements for both bundled Gaussian VAEs.</summary>
[Collection("Torch")]
public class GaussianLatentVaeTests
{
    [Theory]
    [InlineData("gaussian")]
    [InlineData("tvo")]
    public void PriorSamplesAreStandardNormalAndPixelsFollowTheDecoder(string kind)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        GaussianLatentVae model = kind == "tvo" ? new TvoGaussianVae(6, 3, 4, 2, ScalarType.Float64) : new GaussianVae(6, 3, 4, 2, ScalarType.Float64);
        const int count = 20000;
        var (x, latents) = model.SamplePrior(count, new Generator(12));
        Assert.Equal(new long[] { count, 6 }, x.shape);
        Assert.Equal(new long[] { count, 3 }, latents[0].shape);
        Assert.False(x.requires_grad);
        Assert.True(x.eq(0).logical_or(x.eq(1)).all().ToBoolean());
        var z = latents[0];
        for (int d = 0; d < 3; d++)
        {
            Assert.InRange(z[.., d].mean().ToDouble(), -5 / Math.Sqrt(count), 5 / Math.Sqrt(count));
            Assert.InRange(z[.., d].std().ToDouble(), 0.97, 1.03);
        }
        // E[x | z] = sigmoid(decoder(z)): pixel frequencies match the mean probability within 5 standard errors.
        var probabilities = model.ObservationProbabilities(latents);                                    // [count, 6]
        var difference = (x - probabilities).mean(new long[] { 0 });
        var standardError = (probabilities * (1 - probabilities)).mean(new long[] { 0 }).sqrt() / Math.Sqrt(count);
        Assert.True(difference.abs().le(5 * standardError).all().ToBoolean(), $"{difference.str()} vs SE {standardError.str()}");
        Assert.Throws<ArgumentException>(() => model.SampleLatentPrior(0));
    }
}
