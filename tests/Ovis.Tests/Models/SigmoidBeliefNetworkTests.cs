using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Models;

[Collection("Torch")]
public class SigmoidBeliefNetworkTests
{
    [Fact]
    public void PosteriorAndJointAreNormalisedOverTheEnumeration()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create();
        var configurations = model.EnumerateConfigurations();
        Assert.Equal(8, configurations[0].shape[0]);
        var x = TinyModel.Data();
        var densities = model.Evaluate(x, configurations.Select(c => c.unsqueeze(0).expand(2, -1, -1)).ToArray());
        var posteriorMass = densities.TotalLogPosterior().exp().sum(-1);              // Σ_z q(z|x) = 1
        Assert.True((posteriorMass - 1).abs().max().item<double>() < 1e-12);
        // Σ_x Σ_z p(x, z) = 1 over all 8 observed configurations.
        var allX = cat(Enumerable.Range(0, 8).Select(i => tensor(new double[] { i & 1, (i >> 1) & 1, (i >> 2) & 1 }, dtype: float64).unsqueeze(0)).ToArray(), 0);
        var joint = model.Evaluate(allX, configurations.Select(c => c.unsqueeze(0).expand(8, -1, -1)).ToArray()).LogJoint();
        Assert.Equal(1.0, joint.exp().sum().item<double>(), 12);
    }

    [Fact]
    public void ForwardScoresTheSamplesItDraws()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create();
        var x = TinyModel.Data();
        var forward = model.Forward(x, 5, new SamplingOptions(Generator: new Generator(1)));
        Assert.Equal(new long[] { 2, 5 }, forward.LogLikelihood.shape);
        Assert.Equal(new long[] { 2, 5, 2 }, forward.LogPosterior.shape);
        Assert.False(forward.Latents[0].requires_grad);
        var evaluated = model.Evaluate(x, forward.Latents);
        Assert.True(forward.LogPosterior.allclose(evaluated.LogPosterior, 0, 1e-14));
        Assert.True(forward.LogLikelihood.allclose(evaluated.LogLikelihood, 0, 1e-14));
    }

    [Fact]
    public void SameGeneratorSeedGivesTheSameParticles()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create();
        var a = model.Forward(TinyModel.Data(), 4, new SamplingOptions(Generator: new Generator(9)));
        var b = model.Forward(TinyModel.Data(), 4, new SamplingOptions(Generator: new Generator(9)));
        Assert.True(a.Latents[1].Equals(b.Latents[1]));
    }

    [Fact]
    public void RefusesToReparameterise()
    {
        var model = TinyModel.Create();
        var error = Assert.Throws<NotSupportedException>(() => model.Forward(TinyModel.Data(), 2, new SamplingOptions(Reparameterize: true)));
        Assert.Contains("Bernoulli", error.Message);
    }

    [Fact]
    public void DataMeanInitialisesTheOutputBias()
    {
        using var scope = NewDisposeScope();
        var mean = tensor(new float[] { 0.5f, 0.0f, 0.9f });
        var model = new SigmoidBeliefNetwork(3, new[] { 2 }, mean);
        var bias = model.GenerativeParameters().Last().data<float>().ToArray();
        Assert.Equal(0.0, bias[0], 5);
        Assert.Equal(Math.Log(1e-4 / (1 - 1e-4)), bias[1], 3);
        Assert.Equal(Math.Log(0.9 / 0.1), bias[2], 4);
    }
}
