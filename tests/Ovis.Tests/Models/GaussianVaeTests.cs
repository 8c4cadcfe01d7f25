using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Models;

[Collection("Torch")]
public class GaussianVaeTests
{
    /// <summary>A float64 VAE whose encoder output ignores x: weights 0 and the given interleaved (mean, log-std) biases.</summary>
    internal static GaussianVae FixedPosterior(double[] interleaved, int observed = 5, int hidden = 6)
    {
        var model = new GaussianVae(observed, interleaved.Length / 2, hidden, 2, ScalarType.Float64);
        using var noGrad = no_grad();
        var output = (TorchSharp.Modules.Linear)model.named_modules().Single(m => m.name == "encoder.output").module;
        output.weight!.zero_();
        output.bias!.copy_(tensor(interleaved, dtype: ScalarType.Float64));
        return model;
    }

    private static Tensor BinaryData(int count, int size, ulong seed)
        => bernoulli(full(new long[] { count, size }, 0.5, dtype: ScalarType.Float64), generator: new Generator(seed));

    [Fact]
    public void EncoderOutputsAreReadAsInterleavedMeanAndLogStdPairs()
    {
        using var scope = NewDisposeScope();
        var model = FixedPosterior(new[] { 0.3, -1.0, -0.7, 0.5, 2.0, -2.0 });
        var (mean, logStd) = model.Posterior(BinaryData(2, 5, 1));
        Assert.True(mean.allclose(tensor(new[] { 0.3, -0.7, 2.0 }, dtype: ScalarType.Float64).expand(2, 3)));
        Assert.True(logStd.allclose(tensor(new[] { -1.0, 0.5, -2.0 }, dtype: ScalarType.Float64).expand(2, 3)));
    }

    [Fact]
    public void LogDensitiesMatchTheFormulas()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianVae(5, 3, 4, 2, ScalarType.Float64);
        var x = BinaryData(2, 5, 2);
        var z = randn(new long[] { 2, 4, 3 }, dtype: ScalarType.Float64, generator: new Generator(3));
        var densities = model.Evaluate(x, new[] { z });
        var (mean, logStd) = model.Posterior(x);
        var standardized = (z - mean.unsqueeze(1)) / logStd.exp().unsqueeze(1);
        var logq = (-0.5 * standardized.square() - logStd.unsqueeze(1) - 0.5 * Math.Log(2 * Math.PI)).sum(-1);
        var logp = (-0.5 * z.square() - 0.5 * Math.Log(2 * Math.PI)).sum(-1);
        var logits = model.DecoderLogits(z);
        var loglik = (x.unsqueeze(1) * logits - (1 + logits.exp()).log()).sum(-1);
        Assert.Equal(new long[] { 2, 4, 1 }, densities.LogPosterior.shape);
        Assert.True(densities.LogPosterior.squeeze(-1).allclose(logq, rtol: 1e-12, atol: 1e-12));
        Assert.True(densities.LogPrior.squeeze(-1).allclose(logp, rtol: 1e-12, atol: 1e-12));
        Assert.True(densities.LogLikelihood.allclose(loglik, rtol: 1e-12, atol: 1e-12));
    }

    [Fact]
    public void DetachedPosteriorParametersLeaveOnlyThePathGradient()
    {
        using var scope = NewDisposeScope();
        var model = FixedPosterior(new[] { 0.3, -1.0, -0.7, 0.5 });
        var output = (TorchSharp.Modules.Linear)model.named_modules().Single(m => m.name == "encoder.output").module;
        var x = BinaryData(1, 5, 7);
        const int particles = 4;
        Tensor BiasGradient(bool detach)
        {
            var densities = model.Forward(x, particles, new SamplingOptions(Reparameterize: true, DetachPosteriorParameters: detach, Generator: new Generator(8)));
            var gradient = autograd.grad(new[] { densities.LogPosterior.sum() }, new[] { output.bias! })[0];
            return gradient;
        }
        // Full gradient: log q(μ + σε; μ, σ) = Σ(−ε²/2 − log σ − ½ log 2π) does not depend on μ, and d/d log σ = −1 per particle.
        var full = BiasGradient(detach: false);
        Assert.True(full.allclose(tensor(new[] { 0.0, -particles, 0.0, -particles }, dtype: ScalarType.Float64), atol: 1e-12));
        // Path gradient only (STL): ∂ log q/∂z · ∂z/∂φ = −ε/σ for the mean and −ε² for the log-std.
        var epsilon = (model.Sample(x, particles, new SamplingOptions(Generator: new Generator(8)))[0].squeeze(0)
                       - tensor(new[] { 0.3, -0.7 }, dtype: ScalarType.Float64)) / tensor(new[] { Math.Exp(-1.0), Math.Exp(0.5) }, dtype: ScalarType.Float64);
        var sigma = tensor(new[] { Math.Exp(-1.0), Math.Exp(0.5) }, dtype: ScalarType.Float64);
        var meanPart = -(epsilon / sigma).sum(dim: 0);
        var logStdPart = -epsilon.square().sum(dim: 0);
        var expected = stack(new[] { meanPart, logStdPart }, -1).flatten();   // interleaved like the bias
        Assert.True(BiasGradient(detach: true).allclose(expected, rtol: 1e-10, atol: 1e-12));
    }

    [Fact]
    public void EncoderRunsOncePerDataPointNotPerParticle()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianVae(5, 3, 4, 2, ScalarType.Float64);
        var firstEncoderLayer = (TorchSharp.Modules.Linear)model.named_modules().Single(m => m.name == "encoder.linear0").module;
        var firstDecoderLayer = (TorchSharp.Modules.Linear)model.named_modules().Single(m => m.name == "decoder.linear0").module;
        var encoderInputs = new List<long[]>();
        var decoderInputs = new List<long[]>();
        firstEncoderLayer.register_forward_pre_hook((_, input) => { encoderInputs.Add(input.shape); return input; });
        firstDecoderLayer.register_forward_pre_hook((_, input) => { decoderInputs.Add(input.shape); return input; });
        model.Forward(zeros(2, 5, dtype: ScalarType.Float64), 7, new SamplingOptions(Reparameterize: true));
        Assert.Equal(new[] { new long[] { 2, 5 } }, encoderInputs);              // [B, D_x]: one pass for all 7 particles
        Assert.Equal(new[] { new long[] { 2, 7, 3 } }, decoderInputs);           // [B, P, N]
    }

    [Fact]
    public void PaperSizesAndParameterGroups()
    {
        using var scope = NewDisposeScope();
        var model = GaussianVae.Paper();
        Assert.Equal((784, 200), (model.ObservedSize, model.LatentSize));
        Assert.Equal(784 * 200 + 200 + 200 * 200 + 200 + 200 * 400 + 400, model.InferenceParameters().Sum(p => p.numel()));
        Assert.Equal(200 * 200 + 200 + 200 * 200 + 200 + 200 * 784 + 784, model.GenerativeParameters().Sum(p => p.numel()));
        Assert.True(model.CanReparameterize);
        var densities = model.Forward(zeros(3, 784), 5, new SamplingOptions());
        Assert.Equal(new long[] { 3, 5 }, densities.LogLikelihood.shape);
        Assert.Throws<ArgumentException>(() => new GaussianVae(0, 2));
    }

    [Fact]
    public void PaperSigmoidBeliefNetworkUsesTheDataMean()
    {
        using var scope = NewDisposeScope();
        var dataMean = linspace(0, 1, 784);
        var model = SigmoidBeliefNetwork.Paper(dataMean);
        Assert.Equal(new[] { 200, 200, 200 }, model.LayerSizes);
        var outputBias = model.GenerativeParameters()[^1];
        var clamped = dataMean.clamp(1e-4, 1 - 1e-4);
        Assert.True(outputBias.allclose((clamped / (1 - clamped)).log(), rtol: 1e-5, atol: 1e-5));
        Assert.Equal(200 + 2 * (200 * 200 + 200) + 200 * 784 + 784, model.GenerativeParameters().Sum(p => p.numel()));
        Assert.Equal(784 * 200 + 200 + 2 * (200 * 200 + 200), model.InferenceParameters().Sum(p => p.numel()));
        Assert.Throws<ArgumentException>(() => SigmoidBeliefNetwork.Paper(zeros(10)));
    }
}
