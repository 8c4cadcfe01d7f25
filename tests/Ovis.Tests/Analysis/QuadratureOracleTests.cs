using Ovis.Analysis;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ovis.Tests.Analysis;

[Collection("Torch")]
public class QuadratureOracleTests(ITestOutputHelper output)
{
    private static (GaussianToyModel model, Tensor points) Toy()
    {
        var model = new GaussianToyModel(1, dtype: float64, generator: new Generator(4));
        var points = tensor(new double[,] { { 1.2 }, { -0.4 } }, dtype: float64);
        return (model, points);
    }

    [Fact]
    public void GaussHermiteRuleIntegratesNormalMoments()
    {
        var (nodes, weights) = QuadratureOracle.GaussHermite(40);
        double Moment(int power) => nodes.Select((x, i) => weights[i] * Math.Pow(x, power)).Sum();
        Assert.Equal(1, Moment(0), 12);
        Assert.Equal(0, Moment(1), 12);
        Assert.Equal(1, Moment(2), 11);
        Assert.Equal(3, Moment(4), 10);
        Assert.Equal(15, Moment(6), 9);
    }

    [Fact]
    public void SingleParticleBoundEqualsTheClosedFormElbo()
    {
        using var scope = NewDisposeScope();
        var (model, points) = Toy();
        var oracle = new QuadratureOracle(model, points);
        double mu = model.Mu.ToDouble(), a = model.Weight.ToDouble(), b = model.Bias.ToDouble(), s = model.PosteriorStd;
        double elbo = 0;
        foreach (var x in new[] { 1.2, -0.4 })
        {
            double m = x * a + b;
            // E_q[log N(x; z, 1) + log N(z; μ, 1) − log N(z; m, s²)]
            elbo += -Math.Log(2 * Math.PI) - 0.5 * ((x - m) * (x - m) + s * s) - 0.5 * ((m - mu) * (m - mu) + s * s)
                    + 0.5 * Math.Log(2 * Math.PI) + Math.Log(s) + 0.5;
        }
        var exact = oracle.Gradient(1);
        Assert.Equal(elbo / 2, exact.Bound, 10);
        Assert.True(Math.Abs(elbo / 2 - exact.Bound) <= 1e-10, $"{elbo / 2} vs {exact.Bound}");
        // And the closed-form ELBO gradient: ∂/∂μ = mean(m − μ); ∂/∂m = (x − m) − (m − μ); ∂m/∂A = x, ∂m/∂b = 1.
        double dMu = 0, dA = 0, dB = 0;
        foreach (var x in new[] { 1.2, -0.4 })
        {
            double m = x * a + b, dm = (x - m) - (m - mu);
            dMu += (m - mu) / 2; dA += dm * x / 2; dB += dm / 2;
        }
        Assert.Equal(dMu, exact.Theta[0], 10);
        Assert.Equal(dA, exact.Phi[0], 10);
        Assert.Equal(dB, exact.Phi[1], 10);
    }

    [Fact]
    public void QuadratureHasConvergedInTheNodeCount()
    {
        using var scope = NewDisposeScope();
        var (model, points) = Toy();
        // The default rule (100 nodes) against a finer one (140): the difference bounds the quadrature error.
        var standard = new QuadratureOracle(model, points).Gradient(2);
        var fine = new QuadratureOracle(model, points, 140).Gradient(2);
        output.WriteLine($"K=2: |ΔL| = {Math.Abs(fine.Bound - standard.Bound):E2}, |Δ∂μ| = {Math.Abs(fine.Theta[0] - standard.Theta[0]):E2}, " +
                         $"|Δ∂A| = {Math.Abs(fine.Phi[0] - standard.Phi[0]):E2}, |Δ∂b| = {Math.Abs(fine.Phi[1] - standard.Phi[1]):E2}");
        Assert.True(Math.Abs(fine.Bound - standard.Bound) < 1e-8);
        for (int i = 0; i < 2; i++) Assert.True(Math.Abs(fine.Phi[i] - standard.Phi[i]) < 1e-7);
        Assert.True(Math.Abs(fine.Theta[0] - standard.Theta[0]) < 1e-7);
    }

    // 40 nodes: quadrature error ~1e−5 (see QuadratureHasConvergedInTheNodeCount), far below the Monte Carlo SE (~2e−3),
    // and 40³ points keep K = 3 fast.
    private static QuadratureOracle Coarse(GaussianToyModel model, Tensor points) => new(model, points, 40);

    private MonteCarloGradients.Summary Estimate(string id, GaussianToyModel model, Tensor points, int k, int draws, ulong seed)
        => MonteCarloGradients.Sample(EstimatorRegistry.Create(id), model, points.repeat(64, 1), new EstimatorSettings(k), draws, seed);

    [Theory]
    [InlineData("pathwise-iwae", 1)]
    [InlineData("pathwise-iwae", 2)]
    [InlineData("pathwise-iwae", 3)]
    [InlineData("dreg", 2)]
    [InlineData("dreg", 3)]
    public void UnbiasedPathwiseEstimatorsMatchTheQuadratureGradient(string id, int k)
    {
        using var scope = NewDisposeScope();
        var (model, points) = Toy();
        var exact = Coarse(model, points).Gradient(k);
        var expected = exact.Theta.Concat(exact.Phi).ToArray();
        var estimate = Estimate(id, model, points, k, 300, 100 + (ulong)k);
        for (int i = 0; i < expected.Length; i++)
        {
            double z = (estimate.Mean[i] - expected[i]) / estimate.StandardError[i];
            output.WriteLine($"{id} K={k} coord {i}: exact {expected[i]:F6} mean {estimate.Mean[i]:F6} ± {estimate.StandardError[i]:E2} ({z:F2} SE)");
            Assert.True(Math.Abs(estimate.Mean[i] - expected[i]) <= 4 * estimate.StandardError[i] + 1e-12,
                $"{id} K={k} coordinate {i}: {estimate.Mean[i]} vs exact {expected[i]} (SE {estimate.StandardError[i]})");
        }
    }

    [Fact]
    public void StickingTheLandingIsVisiblyBiasedAtThreeParticles()
    {
        using var scope = NewDisposeScope();
        var (model, points) = Toy();
        var exact = Coarse(model, points).Gradient(3);
        var estimate = Estimate("stl", model, points, 3, 300, 77);
        double worst = 0;
        for (int i = 0; i < exact.Phi.Length; i++)
        {
            int j = exact.Theta.Length + i;
            double z = Math.Abs(estimate.Mean[j] - exact.Phi[i]) / estimate.StandardError[j];
            output.WriteLine($"stl K=3 φ[{i}]: exact {exact.Phi[i]:F6} mean {estimate.Mean[j]:F6} ± {estimate.StandardError[j]:E2} ({z:F1} SE)");
            worst = Math.Max(worst, z);
        }
        Assert.True(worst > 10, $"stl's φ-mean is only {worst:F1} standard errors from the exact gradient");
        // θ is unbiased for STL (its θ-gradient is the pathwise one).
        Assert.True(Math.Abs(estimate.Mean[0] - exact.Theta[0]) <= 4 * estimate.StandardError[0] + 1e-12);
    }
}
