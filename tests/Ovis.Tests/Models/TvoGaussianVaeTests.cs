using Ovis.Analysis;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ovis.Tests.Models;

[Collection("Torch")]
public class TvoGaussianVaeTests(ITestOutputHelper output)
{
    private static TorchSharp.Modules.Linear Layer(LatentVariableModel model, string name)
        => (TorchSharp.Modules.Linear)model.named_modules().Single(m => m.name == name).module;

    /// <summary>A float64 model whose q ignores x: both heads' weights 0, biases the given means and log-stds.</summary>
    internal static TvoGaussianVae FixedPosterior(double[] means, double[] logStds, int observed = 5, int hidden = 6)
    {
        var model = new TvoGaussianVae(observed, means.Length, hidden, 2, ScalarType.Float64);
        using var noGrad = no_grad();
        foreach (var (name, bias) in new[] { ("mean", means), ("logStd", logStds) })
        {
            var head = Layer(model, name);
            head.weight!.zero_();
            head.bias!.copy_(tensor(bias, dtype: ScalarType.Float64));
        }
        return model;
    }

    /// <summary>The small instance of the exact-gradient checks: D_x = 6, N = 3, H = 4, float64, seeded initialisation.</summary>
    private static TvoGaussianVae Small(long seed = 11, int latents = 3)
    {
        manual_seed(seed);
        return new TvoGaussianVae(6, latents, 4, 2, ScalarType.Float64);
    }

    private static readonly double[,] SmallPoints = { { 1, 0, 1, 1, 0, 0 }, { 0, 1, 1, 0, 1, 1 } };

    private static Tensor BinaryData(int count, int size, ulong seed, ScalarType dtype = ScalarType.Float64)
        => bernoulli(full(new long[] { count, size }, 0.5, dtype: dtype), generator: new Generator(seed));

    [Fact]
    public void TheTwoHeadsGiveTheMeanAndTheLogStd()
    {
        using var scope = NewDisposeScope();
        var model = FixedPosterior(new[] { 0.3, -0.7, 2.0 }, new[] { -1.0, 0.5, -2.0 });
        var (mean, logStd) = model.Posterior(BinaryData(2, 5, 1));
        Assert.Equal(new long[] { 2, 3 }, mean.shape);
        Assert.True(mean.allclose(tensor(new[] { 0.3, -0.7, 2.0 }, dtype: ScalarType.Float64).expand(2, 3)));
        Assert.True(logStd.allclose(tensor(new[] { -1.0, 0.5, -2.0 }, dtype: ScalarType.Float64).expand(2, 3)));
        // With seeded random weights both heads read the same trunk output h: mean = h Wμᵀ + bμ, log-std = h Wσᵀ + bσ.
        var seeded = Small();
        var x = BinaryData(3, 6, 2);
        var trunk = Layer(seeded, "encoder.linear1").forward(Layer(seeded, "encoder.linear0").forward(x).tanh()).tanh();   // [3, H]
        var (m, s) = seeded.Posterior(x);
        Assert.True(m.allclose(trunk.matmul(Layer(seeded, "mean").weight!.t()) + Layer(seeded, "mean").bias!, rtol: 1e-12, atol: 1e-12));
        Assert.True(s.allclose(trunk.matmul(Layer(seeded, "logStd").weight!.t()) + Layer(seeded, "logStd").bias!, rtol: 1e-12, atol: 1e-12));
    }

    [Fact]
    public void PaperSizesHaveTwoSeparateHeadsAndTheThetaPhiSplitCoversEveryParameterOnce()
    {
        using var scope = NewDisposeScope();
        var model = TvoGaussianVae.Paper();
        Assert.Equal((784, 200, 200, 2), (model.ObservedSize, model.LatentSize, model.HiddenSize, model.HiddenLayers));
        foreach (var head in new[] { "mean", "logStd" })
        {
            Assert.Equal(new long[] { 200, 200 }, Layer(model, head).weight!.shape);
            Assert.Equal(new long[] { 200 }, Layer(model, head).bias!.shape);
        }
        Assert.Equal(784 * 200 + 200 + 200 * 200 + 200 + 2 * (200 * 200 + 200), model.InferenceParameters().Sum(p => p.numel()));
        Assert.Equal(200 * 200 + 200 + 200 * 200 + 200 + 200 * 784 + 784, model.GenerativeParameters().Sum(p => p.numel()));
        // Same totals as the interleaved-head GaussianVae: the heads differ in layout, not in size.
        Assert.Equal(GaussianVae.Paper().AllParameters().Sum(p => p.numel()), model.AllParameters().Sum(p => p.numel()));

        var theta = model.GenerativeParameters().Select(p => p.Handle).ToArray();
        var phi = model.InferenceParameters().Select(p => p.Handle).ToArray();
        var all = model.parameters().Select(p => p.Handle).ToArray();
        Assert.Equal(theta.Length, theta.Distinct().Count());
        Assert.Equal(phi.Length, phi.Distinct().Count());
        Assert.Empty(theta.Intersect(phi));
        Assert.Equal(all.OrderBy(h => h), theta.Concat(phi).OrderBy(h => h));
        Assert.All(model.ParameterNames(), name => Assert.NotEqual("?", name));
        Assert.All(model.ParameterNames().Take(theta.Length), name => Assert.StartsWith("decoder.", name));
        Assert.Equal(new[] { "mean.weight", "mean.bias", "logStd.weight", "logStd.bias" }, model.ParameterNames().TakeLast(4));

        Assert.True(model.CanReparameterize);
        Assert.Equal(1, model.LatentLayers);
        var densities = model.Forward(zeros(3, 784), 5, new SamplingOptions());
        Assert.Equal(new long[] { 3, 5 }, densities.LogLikelihood.shape);
        Assert.Equal(new long[] { 3, 5, 1 }, densities.LogPrior.shape);
        Assert.Equal(new long[] { 3, 5, 1 }, densities.LogPosterior.shape);
        Assert.Equal(new long[] { 3, 5, 200 }, densities.Latents[0].shape);
        Assert.Throws<ArgumentException>(() => new TvoGaussianVae(0, 2));
        Assert.Throws<ArgumentException>(() => model.Evaluate(zeros(3, 784), Array.Empty<Tensor>()));
    }

    [Fact]
    public void NoHiddenLayerMeansLinearHeadsAndALinearDecoder()
    {
        using var scope = NewDisposeScope();
        var model = new TvoGaussianVae(5, 3, 7, 0, ScalarType.Float64);
        Assert.Equal(2 * (5 * 3 + 3), model.InferenceParameters().Sum(p => p.numel()));
        Assert.Equal(3 * 5 + 5, model.GenerativeParameters().Sum(p => p.numel()));
        var x = BinaryData(2, 5, 3);
        var (mean, _) = model.Posterior(x);
        Assert.True(mean.allclose(x.matmul(Layer(model, "mean").weight!.t()) + Layer(model, "mean").bias!, rtol: 1e-12, atol: 1e-12));
    }

    [Fact]
    public void LogDensitiesMatchTheFormulas()
    {
        using var scope = NewDisposeScope();
        var model = Small();
        var x = BinaryData(2, 6, 2);
        var z = randn(new long[] { 2, 4, 3 }, dtype: ScalarType.Float64, generator: new Generator(3));
        var densities = model.Evaluate(x, new[] { z });
        var (mean, logStd) = model.Posterior(x);
        var standardized = (z - mean.unsqueeze(1)) / logStd.exp().unsqueeze(1);
        var logq = (-0.5 * standardized.square() - logStd.unsqueeze(1) - 0.5 * Math.Log(2 * Math.PI)).sum(-1);
        var logp = (-0.5 * z.square() - 0.5 * Math.Log(2 * Math.PI)).sum(-1);
        var logits = model.DecoderLogits(z);
        var loglik = (x.unsqueeze(1) * logits - (1 + logits.exp()).log()).sum(-1);
        Assert.Equal(new long[] { 2, 4, 1 }, densities.LogPosterior.shape);
        Assert.Equal(new long[] { 2, 4, 1 }, densities.LogPrior.shape);
        Assert.Equal(new long[] { 2, 4 }, densities.LogLikelihood.shape);
        Assert.True(densities.LogPosterior.squeeze(-1).allclose(logq, rtol: 1e-12, atol: 1e-12));
        Assert.True(densities.LogPrior.squeeze(-1).allclose(logp, rtol: 1e-12, atol: 1e-12));
        Assert.True(densities.LogLikelihood.allclose(loglik, rtol: 1e-12, atol: 1e-12));
        // One point by hand, unit by unit: log N(z; μ, e^{2s}) = −½((z − μ)e^{−s})² − s − ½ log 2π.
        double byHand = 0;
        for (int d = 0; d < 3; d++)
        {
            double zd = z[1, 2, d].ToDouble(), mu = mean[1, d].ToDouble(), s = logStd[1, d].ToDouble();
            byHand += -0.5 * Math.Pow((zd - mu) * Math.Exp(-s), 2) - s - 0.5 * Math.Log(2 * Math.PI);
        }
        Assert.Equal(byHand, densities.LogPosterior[1, 2, 0].ToDouble(), 12);
    }

    [Fact]
    public void TheReparameterisedLikelihoodGradientReachesBothHeadsOnlyThroughZ()
    {
        using var scope = NewDisposeScope();
        var model = Small();
        var x = BinaryData(2, 6, 9);
        var phi = model.InferenceParameters().Cast<Tensor>().ToArray();
        // Reparameterised: log p(x|z) depends on φ only through z = μ + σε; ∂/∂bμ = Σ ∂log p/∂z, ∂/∂bσ = Σ ∂log p/∂z · σε.
        var densities = model.Forward(x, 4, new SamplingOptions(Reparameterize: true, Generator: new Generator(10)));
        var gradients = autograd.grad(new[] { densities.LogLikelihood.sum() }, phi, retain_graph: true);
        Assert.All(gradients, g => Assert.True(g.abs().sum().ToDouble() > 0));
        var z = densities.Latents[0];
        var dz = autograd.grad(new[] { densities.LogLikelihood.sum() }, new[] { z })[0];                        // [B, P, N]
        var (mean, logStd) = model.Posterior(x);
        var epsilon = (z.detach() - mean.detach().unsqueeze(1)) / logStd.detach().exp().unsqueeze(1);
        var meanBias = dz.sum(new long[] { 0, 1 });
        var logStdBias = (dz * epsilon * logStd.detach().exp().unsqueeze(1)).sum(new long[] { 0, 1 });
        Assert.True(gradients[^3].allclose(meanBias, rtol: 1e-10, atol: 1e-12), $"{gradients[^3].str()} vs {meanBias.str()}");
        Assert.True(gradients[^1].allclose(logStdBias, rtol: 1e-10, atol: 1e-12), $"{gradients[^1].str()} vs {logStdBias.str()}");
        // Score-function sampling: log p(x|z) does not depend on φ at all.
        var scored = model.Forward(x, 4, new SamplingOptions(Generator: new Generator(10)));
        var unused = autograd.grad(new[] { scored.LogLikelihood.sum() }, phi, allow_unused: true);
        Assert.All(unused, g => Assert.True(g is null || g.IsInvalid, "log p(x|z) of a score-function draw reached φ"));
    }

    [Fact]
    public void DetachedPosteriorParametersLeaveOnlyThePathGradient()
    {
        using var scope = NewDisposeScope();
        var means = new[] { 0.3, -0.7 };
        var logStds = new[] { -1.0, 0.5 };
        var model = FixedPosterior(means, logStds);
        var meanBias = Layer(model, "mean").bias!;
        var logStdBias = Layer(model, "logStd").bias!;
        var x = BinaryData(1, 5, 7);
        const int particles = 4;
        Tensor[] BiasGradients(bool detach)
        {
            var densities = model.Forward(x, particles, new SamplingOptions(Reparameterize: true, DetachPosteriorParameters: detach, Generator: new Generator(8)));
            return autograd.grad(new[] { densities.LogPosterior.sum() }, new[] { meanBias, logStdBias }).ToArray();
        }
        // Full gradient: log q(μ + σε; μ, σ) = Σ(−ε²/2 − log σ − ½ log 2π) does not depend on μ, and d/d log σ = −1 per particle.
        var full = BiasGradients(detach: false);
        Assert.True(full[0].allclose(zeros(2, dtype: ScalarType.Float64), atol: 1e-12));
        Assert.True(full[1].allclose(full_like(full[1], -particles), atol: 1e-12));
        // Path gradient only (STL/DReG): ∂ log q/∂z · ∂z/∂φ = −ε/σ for the mean head and −ε² for the log-std head.
        var sigma = tensor(logStds, dtype: ScalarType.Float64).exp();
        var epsilon = (model.Sample(x, particles, new SamplingOptions(Generator: new Generator(8)))[0].squeeze(0)
                       - tensor(means, dtype: ScalarType.Float64)) / sigma;                                   // [P, N]
        var detached = BiasGradients(detach: true);
        Assert.True(detached[0].allclose(-(epsilon / sigma).sum(dim: 0), rtol: 1e-10, atol: 1e-12));
        Assert.True(detached[1].allclose(-epsilon.square().sum(dim: 0), rtol: 1e-10, atol: 1e-12));
        // Evaluate honours the flag the same way.
        var z = model.Sample(x, particles, new SamplingOptions(Generator: new Generator(8)));
        var evaluated = model.Evaluate(x, z, detachPosteriorParameters: true);
        Assert.False(evaluated.LogPosterior.requires_grad);                                             // z carries no path here
        Assert.True(model.Evaluate(x, z).LogPosterior.requires_grad);
    }

    [Fact]
    public void EncoderRunsOncePerDataPointNotPerParticle()
    {
        using var scope = NewDisposeScope();
        var model = Small();
        var encoderInputs = new List<long[]>();
        var decoderInputs = new List<long[]>();
        var headInputs = new List<long[]>();
        Layer(model, "encoder.linear0").register_forward_pre_hook((_, input) => { encoderInputs.Add(input.shape); return input; });
        Layer(model, "decoder.linear0").register_forward_pre_hook((_, input) => { decoderInputs.Add(input.shape); return input; });
        Layer(model, "logStd").register_forward_pre_hook((_, input) => { headInputs.Add(input.shape); return input; });
        model.Forward(zeros(2, 6, dtype: ScalarType.Float64), 7, new SamplingOptions(Reparameterize: true));
        Assert.Equal(new[] { new long[] { 2, 6 } }, encoderInputs);              // [B, D_x]: one pass for all 7 particles
        Assert.Equal(new[] { new long[] { 2, 4 } }, headInputs);                 // [B, H]
        Assert.Equal(new[] { new long[] { 2, 7, 3 } }, decoderInputs);           // [B, P, N]
    }

    // ---- exact gradients by Gauss–Hermite quadrature over the K·N standard-normal noises -----------------------

    /// <summary>
    /// L_K(x) = E_ε[logsumexp_k log w(μ + σ ε_k) − log K] by an n-point Gauss–Hermite product rule over the K·N noises
    /// (z reparameterised, so autograd of the quadrature sum is the gradient of the quadrature value), batch mean over
    /// <paramref name="points"/>; gradient in <see cref="LatentVariableModel.AllParameters"/> order (θ then φ), ascent.
    /// </summary>
    private static (double Bound, double[] Gradient) Quadrature(TvoGaussianVae model, Tensor points, int particles, int nodeCount)
    {
        using var scope = NewDisposeScope();
        var (nodes, weights) = QuadratureOracle.GaussHermite(nodeCount);
        var nodeTensor = tensor(nodes, dtype: float64);
        var logWeights = tensor(weights, dtype: float64).log();
        int dimensions = particles * model.LatentSize;
        var index = arange((long)Math.Pow(nodeCount, dimensions), dtype: ScalarType.Int64).unsqueeze(1);     // [G, 1]
        var place = pow(tensor((long)nodeCount), arange(dimensions - 1, -1, -1, dtype: ScalarType.Int64));   // [K·N]
        var grid = index.div(place, rounding_mode: RoundingMode.floor).remainder(nodeCount);                  // [G, K·N]
        long size = grid.shape[0];
        var epsilon = nodeTensor[grid].view(1, size * particles, model.LatentSize);                           // [1, G·K, N]
        var probability = logWeights[grid].sum(-1).exp();                                                      // Π ω, [G]
        var parameters = model.AllParameters().Cast<Tensor>().ToArray();
        double bound = 0;
        var gradient = new double[parameters.Sum(p => p.numel())];
        long count = points.shape[0];
        for (long b = 0; b < count; b++)
        {
            var point = points.narrow(0, b, 1);                                                                  // [1, D_x]
            var (mean, logStd) = model.Posterior(point);                                                       // [1, N]
            var z = mean.unsqueeze(1) + logStd.exp().unsqueeze(1) * epsilon;                                   // [1, G·K, N]
            var logWeight = model.Evaluate(point, new[] { z }).LogWeights(detachPosterior: false).view(size, particles); // [G, K]
            var value = (probability * (logWeight.logsumexp(-1) - Math.Log(particles))).sum();
            bound += value.ToDouble() / count;
            var grads = autograd.grad(new[] { value }, parameters);
            var flat = cat(grads.Select(g => g.reshape(-1)).ToArray(), 0).data<double>().ToArray();
            for (int i = 0; i < flat.Length; i++) gradient[i] += flat[i] / count;
        }
        return (bound, gradient);
    }

    // The reference: N = 2 latents at K = 2 (a 4-dimensional rule, 16 nodes: 65,536 points per data point) and N = 1 at
    // K = 3 (3-dimensional, 30 nodes). Their quadrature error (QuadratureReferenceIsExactWhereItMustBeAndHasConverged:
    // ≤1.3e−6 against 14 nodes, ~3e−7 against 18–20; ~1e−8 at K = 3) is well below the smallest Monte Carlo standard
    // error of the checks (a few 1e−5 with 40 draws of 1024 points; median 2–7e−4).
    private static (int Latents, int Nodes) Reference(int particles) => particles switch
    {
        2 => (2, 16),
        3 => (1, 30),
        _ => throw new ArgumentException($"no quadrature reference for K = {particles}"),
    };

    private static readonly Dictionary<int, (double Bound, double[] Gradient)> references = new();

    /// <summary>L_K and ∇L_K of the seeded reference model at <see cref="SmallPoints"/>, computed once per K.</summary>
    private static (double Bound, double[] Gradient) ReferenceQuadrature(int particles)
    {
        if (!references.TryGetValue(particles, out var reference))
        {
            var (latents, nodes) = Reference(particles);
            using var scope = NewDisposeScope();
            reference = Quadrature(Small(latents: latents), tensor(SmallPoints, dtype: float64), particles, nodes);
            references[particles] = reference;
        }
        return reference;
    }

    [Fact]
    public void QuadratureReferenceIsExactWhereItMustBeAndHasConverged()
    {
        using var scope = NewDisposeScope();
        var points = tensor(SmallPoints, dtype: float64);
        // K = 1 with the decoder's output weights zeroed: log p(x|z) is the constant Σ log Bern(x; sigmoid(c)), and the
        // rest of log w is quadratic in ε, so the rule is exact: L_1 = log p(x|c) − KL(q‖N(0, I)) with
        // KL = Σ_d ½(μ_d² + σ_d² − 1) − log σ_d, ∂L_1/∂bμ = −mean_x μ, ∂L_1/∂bσ = mean_x (1 − σ²).
        var model = Small(latents: 2);
        using (no_grad()) Layer(model, "decoder.output").weight!.zero_();
        var (bound, gradient) = Quadrature(model, points, 1, 6);
        var (mean, logStd) = model.Posterior(points);
        var c = Layer(model, "decoder.output").bias!;
        var logLikelihood = (points * c - (1 + c.exp()).log()).sum(-1);                                       // [2]
        var kl = (0.5 * (mean.square() + (2 * logStd).exp() - 1) - logStd).sum(-1);                           // [2]
        Assert.Equal((logLikelihood - kl).mean().ToDouble(), bound, 12);
        var meanBias = -mean.mean(new long[] { 0 });
        var logStdBias = (1 - (2 * logStd).exp()).mean(new long[] { 0 });
        int logStdBiasAt = gradient.Length - 2, meanBiasAt = logStdBiasAt - 2 * 4 - 2;                        // φ ends with bμ [2], Wσ [2, 4], bσ [2]
        for (int d = 0; d < 2; d++)
        {
            Assert.Equal(meanBias[d].ToDouble(), gradient[meanBiasAt + d], 12);
            Assert.Equal(logStdBias[d].ToDouble(), gradient[logStdBiasAt + d], 12);
        }

        // The references against coarser rules, and L_1 < L_2 < L_3 (the bound tightens with K).
        foreach (int k in new[] { 2, 3 })
        {
            var (latents, nodes) = Reference(k);
            var seeded = Small(latents: latents);
            var standard = ReferenceQuadrature(k);
            // Against a coarser rule: the error is geometric in the node count, so |Q(n − 2) − Q(n)| over-bounds Q(n)'s.
            var coarse = Quadrature(seeded, points, k, nodes - 2);
            double worst = standard.Gradient.Zip(coarse.Gradient, (a, b) => Math.Abs(a - b)).Max();
            output.WriteLine($"N={latents} K={k}: |ΔL| = {Math.Abs(standard.Bound - coarse.Bound):E2}, max |Δ∇L| = {worst:E2} ({nodes - 2} vs {nodes} nodes)");
            Assert.True(Math.Abs(standard.Bound - coarse.Bound) < 1e-6, $"K = {k}: bound moved by {Math.Abs(standard.Bound - coarse.Bound):E2}");
            Assert.True(worst < 3e-6, $"K = {k}: gradient moved by {worst:E2}");
            double previous = Quadrature(seeded, points, k - 1, nodes).Bound;
            Assert.True(standard.Bound > previous, $"L_{k} = {standard.Bound} is not above L_{k - 1} = {previous}");
        }
    }

    private static MonteCarloGradients.Summary Estimate(string id, TvoGaussianVae model, int particles, ulong seed)
        => MonteCarloGradients.Sample(EstimatorRegistry.Create(id), model, tensor(SmallPoints, dtype: float64).repeat(512, 1),
                                      new EstimatorSettings(particles), 40, seed);

    [Theory]
    [InlineData("pathwise-iwae", 2)]
    [InlineData("pathwise-iwae", 3)]
    [InlineData("dreg", 2)]
    [InlineData("dreg", 3)]
    [InlineData("ovis-gamma0", 2)]
    [InlineData("ovis-gamma0", 3)]
    public void UnbiasedEstimatorsMatchTheQuadratureGradient(string id, int particles)
    {
        using var scope = NewDisposeScope();
        var model = Small(latents: Reference(particles).Latents);
        var exact = ReferenceQuadrature(particles).Gradient;
        var estimate = Estimate(id, model, particles, 100 + (ulong)particles);
        var z = exact.Select((e, i) => (estimate.Mean[i] - e) / estimate.StandardError[i]).ToArray();
        output.WriteLine($"{id} K={particles}: {z.Length} coordinates, max |z| = {z.Max(Math.Abs):F2}, mean z² = {z.Average(v => v * v):F2}, median SE {estimate.StandardError.Order().ElementAt(z.Length / 2):E2}");
        for (int i = 0; i < exact.Length; i++)
            Assert.True(Math.Abs(estimate.Mean[i] - exact[i]) <= 4.5 * estimate.StandardError[i],
                $"{id} K={particles} coordinate {i}: {estimate.Mean[i]} vs exact {exact[i]} (SE {estimate.StandardError[i]})");
    }

    [Theory]
    [InlineData("stl")]
    [InlineData("ovis-gamma1")]
    public void BiasedEstimatorsAreVisiblyOffInPhiButNotInTheta(string id)
    {
        // The power of the check above: STL (K > 1) and OVIS~ γ = 1 are biased for ∇_φ L_K, and the same test detects it.
        using var scope = NewDisposeScope();
        var model = Small(latents: Reference(2).Latents);
        var exact = ReferenceQuadrature(2).Gradient;
        var estimate = Estimate(id, model, 2, 7);
        int thetaCount = (int)model.GenerativeParameters().Sum(p => p.numel());
        var z = exact.Select((e, i) => (estimate.Mean[i] - e) / estimate.StandardError[i]).ToArray();
        double worstPhi = z.Skip(thetaCount).Max(Math.Abs), worstTheta = z.Take(thetaCount).Max(Math.Abs);
        output.WriteLine($"{id} K=2: max |z| over φ = {worstPhi:F1}, over θ = {worstTheta:F2}");
        Assert.True(worstPhi > 10, $"{id}'s φ-mean is only {worstPhi:F1} standard errors from the exact gradient");
        Assert.True(worstTheta <= 4.5, $"{id}'s θ-gradient is {worstTheta:F1} standard errors off");
    }

    [Theory]
    [InlineData("pathwise-iwae", 0.0)]
    [InlineData("dreg", 0.0)]
    [InlineData("ovis-gamma1", 0.0)]
    [InlineData("ovis-S0.5K", 0.0)]
    [InlineData("pathwise-iwae", 0.7)]
    [InlineData("dreg", 0.7)]
    [InlineData("ovis-gamma1", 0.7)]
    [InlineData("ovis-S0.5K", 0.7)]
    public void PaperSizeEstimatorsGiveFiniteLossesAndGradients(string id, double alpha)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var model = TvoGaussianVae.Paper();
        var x = BinaryData(4, 784, 13, ScalarType.Float32);
        var result = EstimatorRegistry.Create(id).Compute(new EstimatorContext(new EstimatorSettings(5, Alpha: alpha), model, x, new Generator(14)));
        Assert.True(double.IsFinite(result.Loss.ToDouble()), $"{id}: loss {result.Loss.ToDouble()}");
        double bound = result.Mean(DiagnosticKeys.Bound);
        Assert.True(double.IsFinite(bound) && bound < 0, $"{id}: L_K = {bound}");
        result.Loss.backward();
        foreach (var (group, parameters) in new[] { ("θ", model.GenerativeParameters()), ("φ", model.InferenceParameters()) })
        {
            Assert.All(parameters, p => Assert.True(p.grad is not null && p.grad.isfinite().all().ToBoolean(), $"{id}: a {group} gradient is missing or not finite"));
            double norm = Math.Sqrt(parameters.Sum(p => p.grad!.square().sum().ToDouble()));
            Assert.True(norm > 0 && double.IsFinite(norm), $"{id}: ‖∇{group}‖ = {norm}");
        }
    }
}
