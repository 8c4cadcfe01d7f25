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

    [Theory]
    [InlineData("gaussian")]
    [InlineData("tvo")]
    public void SamplesFollowQAndCarryGradientOnlyWhenReparameterised(string kind)
    {
        using var scope = NewDisposeScope();
        // q(z|x) = N((0.3, −0.7), diag(e^−1, e^0.5)²) whatever x is.
        GaussianLatentVae model = kind == "tvo"
            ? TvoGaussianVaeTests.FixedPosterior(new[] { 0.3, -0.7 }, new[] { -1.0, 0.5 })
            : GaussianVaeTests.FixedPosterior(new[] { 0.3, -1.0, -0.7, 0.5 });
        var x = bernoulli(full(new long[] { 1, 5 }, 0.5, dtype: ScalarType.Float64), generator: new Generator(4));   // [1, D_x]
        var z = model.Sample(x, 20000, new SamplingOptions(Generator: new Generator(5)))[0];     // [1, P, 2]
        Assert.False(z.requires_grad);
        var sampleMean = z.mean(new long[] { 1 }).squeeze(0);
        var sampleStd = z.std(1).squeeze(0);
        var expectedStd = new[] { Math.Exp(-1.0), Math.Exp(0.5) };
        var expectedMean = new[] { 0.3, -0.7 };
        for (int d = 0; d < 2; d++)
        {
            double standardError = expectedStd[d] / Math.Sqrt(20000);
            Assert.InRange(sampleMean[d].ToDouble(), expectedMean[d] - 5 * standardError, expectedMean[d] + 5 * standardError);
            Assert.InRange(sampleStd[d].ToDouble(), expectedStd[d] * 0.97, expectedStd[d] * 1.03);
        }
        var reparameterised = model.Forward(x, 3, new SamplingOptions(Reparameterize: true, Generator: new Generator(6)));
        Assert.True(reparameterised.Latents[0].requires_grad);
        var scored = model.Forward(x, 3, new SamplingOptions(Generator: new Generator(6)));
        Assert.False(scored.Latents[0].requires_grad);
        Assert.True(scored.LogPosterior.requires_grad);                      // the score ∇_φ log q(z|x) exists
        Assert.True(scored.Latents[0].allclose(reparameterised.Latents[0]));  // same generator state, same draw
    }
}
