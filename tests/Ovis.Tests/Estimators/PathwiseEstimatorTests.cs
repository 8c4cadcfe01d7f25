using Ovis.Analysis;
using Ovis.Bounds;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Estimators;

[Collection("Torch")]
public class PathwiseEstimatorTests
{
    private static (GaussianToyModel model, Tensor x) Toy(int dimension = 2, int points = 3)
    {
        var model = new GaussianToyModel(dimension, dtype: float64, generator: new Generator(3));
        var (x, _) = GaussianToyModel.GenerateData(dimension, points, seed: 5, dtype: float64);
        return (model, x);
    }

    [Theory]
    [InlineData("pathwise-iwae")]
    [InlineData("pathwise-vae")]
    [InlineData("pathwise")]
    [InlineData("stl")]
    [InlineData("dreg")]
    public void PathwiseEstimatorsRefuseDiscreteModelsBeforeComputing(string id)
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create();
        var estimator = EstimatorRegistry.Create(id);
        Assert.True(estimator.RequiresReparameterization);
        var error = Assert.Throws<NotSupportedException>(() => estimator.Compute(new EstimatorContext(new EstimatorSettings(3), model, TinyModel.Data())));
        Assert.Contains(id, error.Message);
        Assert.Contains("reparameterised", error.Message);
        Assert.All(model.parameters(), p => Assert.True(p.grad is null));
    }

    [Theory]
    [InlineData("pathwise-iwae")]
    [InlineData("dreg")]
    public void TheVerifierReportsPathwiseEstimatorsAsNotApplicable(string id)
    {
        using var scope = NewDisposeScope();
        var verifier = new EstimatorVerifier(new ExactOracle(TinyModel.Create(), TinyModel.Data()));
        var result = verifier.Verify(EstimatorRegistry.Create(id), 3, 0);
        Assert.NotNull(result.Error);
        Assert.Contains("reparameterised", result.Error);
        Assert.Null(result.ClaimHolds);
    }

    [Fact]
    public void PathwiseIwaeAndVaeRegroupTheParticles()
    {
        using var scope = NewDisposeScope();
        var (model, x) = Toy();
        var settings = new EstimatorSettings(Particles: 3, OuterSamples: 4, Alpha: 0.3);
        var densities = model.Forward(x, 12, new SamplingOptions(Reparameterize: true, Generator: new Generator(11)));
        var context = new EstimatorContext(settings, model, x);
        var logWeights = densities.LogWeights(detachPosterior: false);                                 // [B, 12]
        var iwae = new PathwiseIwae().Surrogate(densities, context).Loss.ToDouble();
        Assert.Equal(-ImportanceWeightedBound.Compute(logWeights, 0.3).mean().ToDouble(), iwae, 12);
        var vae = new PathwiseVae().Surrogate(densities, context).Loss.ToDouble();
        Assert.Equal(-logWeights.mean().ToDouble(), vae, 12);
        var plain = new Pathwise().Surrogate(densities, context).Loss.ToDouble();
        Assert.Equal(-ImportanceWeightedBound.Compute(logWeights.view(3, 4, 3), 0.3).mean().ToDouble(), plain, 12);
    }

    [Fact]
    public void StickingTheLandingKeepsTheToysFixedScaleAndDropsOnlyTheScoreTerm()
    {
        using var scope = NewDisposeScope();
        var (model, x) = Toy();
        var settings = new EstimatorSettings(Particles: 4);
        var context = new EstimatorContext(settings, model, x, new Generator(21));
        var stl = new StickingTheLanding().Compute(context);
        // Same draw, reference construction: log q with q's mean detached but scale 2/3, so the loss value equals −L.
        var densities = model.Forward(x, 4, new SamplingOptions(Reparameterize: true, Generator: new Generator(21)));
        var bound = ImportanceWeightedBound.Compute(densities.LogWeights(detachPosterior: false)).mean().ToDouble();
        Assert.Equal(-bound, stl.Loss.ToDouble(), 12);
        var phi = model.InferenceParameters().Cast<Tensor>().ToArray();
        var stlGrad = torch.autograd.grad(new[] { stl.Loss }, phi);
        // Path derivative only: Σ_k v_k ∂_z log w_k ∂z_k/∂φ, written out with the q scale s = 2/3.
        var z = densities.Latents[0];                                                                   // [B, K, D]
        var mean = (x.matmul(model.Weight) + model.Bias).unsqueeze(1);
        var weights = densities.LogWeights(detachPosterior: false).softmax(-1).detach();               // [B, K]
        var zd = z.detach();
        var dLogW = (x.unsqueeze(1) - zd) - (zd - model.Mu.detach()) + (zd - mean.detach()) / (model.PosteriorStd * model.PosteriorStd); // ∂_z log w [B, K, D]
        var surrogate = -(weights.unsqueeze(-1) * dLogW * z).sum(new long[] { 1, 2 }).mean();
        var expected = torch.autograd.grad(new[] { surrogate }, phi);
        for (int i = 0; i < phi.Length; i++) Assert.True(stlGrad[i].allclose(expected[i], rtol: 1e-10, atol: 1e-12), $"φ[{i}] {stlGrad[i].str()} vs {expected[i].str()}");
    }

    [Fact]
    public void DregGivesTheSquaredWeightPathGradientAndTheWeightedThetaGradient()
    {
        using var scope = NewDisposeScope();
        var (model, x) = Toy();
        var settings = new EstimatorSettings(Particles: 5, OuterSamples: 2);
        var result = new DoublyReparameterized().Compute(new EstimatorContext(settings, model, x, new Generator(31)));
        var parameters = model.AllParameters().Cast<Tensor>().ToArray();
        var dreg = torch.autograd.grad(new[] { result.Loss }, parameters);

        // The hook version's gradients, written out: θ: Σ v_k ∇_θ log w_k; φ: Σ v_k² ∂_z log w_k ∂z_k/∂φ.
        var densities = model.Forward(x, 10, new SamplingOptions(Reparameterize: true, DetachPosteriorParameters: true, Generator: new Generator(31)));
        var logWeights = densities.LogWeights(detachPosterior: false).view(3, 2, 5);
        var v = logWeights.softmax(-1).detach();
        var z = densities.Latents[0];
        var zd = z.detach();
        var mean = (x.matmul(model.Weight) + model.Bias).unsqueeze(1).detach();
        var dLogW = (x.unsqueeze(1) - zd) - (zd - model.Mu.detach()) + (zd - mean) / (model.PosteriorStd * model.PosteriorStd);
        var thetaTerm = (v * logWeights).sum();                                                         // reaches θ (and φ through z)
        var thetaGrad = torch.autograd.grad(new[] { thetaTerm }, new Tensor[] { model.Mu }, retain_graph: true)[0];
        var phiTerm = ((v.square().view(3, 10).unsqueeze(-1) * dLogW) * z).sum();
        var phiGrad = torch.autograd.grad(new[] { phiTerm }, new Tensor[] { model.Weight, model.Bias });
        const double scale = 1.0 / (3 * 2);                                                             // mean over (b, m)
        Assert.True(dreg[0].allclose(-scale * thetaGrad, rtol: 1e-10, atol: 1e-12), $"θ {dreg[0].str()} vs {(-scale * thetaGrad).str()}");
        Assert.True(dreg[1].allclose(-scale * phiGrad[0], rtol: 1e-10, atol: 1e-12), $"A {dreg[1].str()} vs {(-scale * phiGrad[0]).str()}");
        Assert.True(dreg[2].allclose(-scale * phiGrad[1], rtol: 1e-10, atol: 1e-12), $"b {dreg[2].str()} vs {(-scale * phiGrad[1]).str()}");
        Assert.Equal(ImportanceWeightedBound.Compute(logWeights).mean().ToDouble(), result.Mean(DiagnosticKeys.Bound), 10);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    public void DregGivesTheSameGradientsWhetherItDrawsTheParticlesOrIsGivenThem(double alpha)
    {
        using var scope = NewDisposeScope();
        var model = new GaussianVae(observedSize: 8, latentSize: 3, hiddenSize: 6, hiddenLayers: 2, dtype: ScalarType.Float64);
        var x = rand(new long[] { 4, 8 }, dtype: float64, generator: new Generator(2)).gt(0.5).to(float64);
        var context = new EstimatorContext(new EstimatorSettings(Particles: 4, OuterSamples: 2, Alpha: alpha), model, x, new Generator(17));
        var estimator = new DoublyReparameterized();
        var parameters = model.AllParameters().Cast<Tensor>().ToArray();

        // Drawn by the estimator: the deferred path scale on z, one backward pass.
        Assert.NotNull(estimator.DrawParticles(context with { Generator = new Generator(17) }).LatentPathScale);
        var drawn = torch.autograd.grad(new[] { estimator.Compute(context with { Generator = new Generator(17) }).Loss }, parameters);
        // Given by another forward: the autograd.grad correction.
        var given = estimator.ComputeWith(context with { Generator = new Generator(17) }, (count, options) => model.Forward(x, count, options));
        var correction = torch.autograd.grad(new[] { given.Loss }, parameters);
        for (int i = 0; i < parameters.Length; i++)
            Assert.True(drawn[i].allclose(correction[i], rtol: 1e-10, atol: 1e-13), $"parameter {i}: {drawn[i].str()} vs {correction[i].str()}");
    }

    [Fact]
    public void ClaimsFollowTheMaths()
    {
        Assert.True(new PathwiseIwae().Claim(0.5)!.IsUnbiased);
        Assert.True(new PathwiseVae().Claim(0)!.IsUnbiased);
        Assert.Equal((1, 1), new PathwiseVae().TargetParticles(7));
        Assert.True(new DoublyReparameterized().Claim(0)!.IsUnbiased);
        Assert.Null(new DoublyReparameterized().Claim(0.5));
        Assert.Null(new StickingTheLanding().Claim(0));
        Assert.Contains("biased", new StickingTheLanding().Description.Summary);
    }
}
