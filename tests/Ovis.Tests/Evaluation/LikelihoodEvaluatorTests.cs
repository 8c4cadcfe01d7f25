using Ovis.Bounds;
using Ovis.Evaluation;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Evaluation;

[Collection("Torch")]
public class LikelihoodEvaluatorTests
{
    private static Tensor BinaryData(int count, int size, ulong seed)
        => bernoulli(full(new long[] { count, size }, 0.5, dtype: ScalarType.Float64), generator: new Generator(seed));

    [Fact]
    public void ChunkedEvaluationEqualsUnchunkedOnTheSameParticles()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianVae(8, 3, 5, 2, ScalarType.Float64);
        var x = BinaryData(3, 8, 1);
        const int particles = 5000;
        var latents = model.Sample(x, particles, new SamplingOptions(Generator: new Generator(2)))[0];   // [B, K, N], pre-drawn
        ParticleLogDensities Chunk(long start, long count) => model.Evaluate(x, new[] { latents.narrow(1, start, count) });
        var chunked = new LikelihoodEvaluator(particles, particleChunk: 500).EvaluateChunks(Chunk);
        var uneven = new LikelihoodEvaluator(particles, particleChunk: 777).EvaluateChunks(Chunk);   // last chunk 338
        var whole = new LikelihoodEvaluator(particles, particleChunk: particles).EvaluateChunks(Chunk);
        Assert.Equal(particles, chunked.Particles);
        foreach (var other in new[] { uneven, whole })
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(other.Bound[i], chunked.Bound[i], 1e-9);
                Assert.Equal(other.Elbo[i], chunked.Elbo[i], 1e-9);
                Assert.Equal(other.EffectiveSampleSize[i], chunked.EffectiveSampleSize[i], 1e-7);
                Assert.Equal(other.NegativeLogLikelihood[i], chunked.NegativeLogLikelihood[i], 1e-9);
            }
        // And both equal the library's one-shot reductions of all K log-weights.
        var logWeights = model.Evaluate(x, new[] { latents }).LogWeights(detachPosterior: true);          // [B, K]
        var bound = ImportanceWeightedBound.Compute(logWeights).data<double>().ToArray();
        var ess = EffectiveSampleSize.FromLogWeights(logWeights).data<double>().ToArray();
        var elbo = EvidenceLowerBound.FromLogWeights(logWeights).data<double>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(bound[i], chunked.Bound[i], 1e-9);
            Assert.Equal(ess[i], chunked.EffectiveSampleSize[i], 1e-7);
            Assert.Equal(elbo[i], chunked.Elbo[i], 1e-9);
            Assert.True(chunked.Bound[i] >= chunked.Elbo[i]);   // KL(q‖p) estimate L_K − ELBO ≥ 0 (Jensen, per point)
            Assert.InRange(chunked.EffectiveSampleSize[i], 1, particles);
        }
    }

    [Fact]
    public void BatchedEvaluationCoversEveryPointAndIsReproducible()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianVae(8, 3, 5, 2, ScalarType.Float64);
        var data = BinaryData(5, 8, 3);
        var evaluator = new LikelihoodEvaluator(particles: 64, particleChunk: 20, batchSize: 2);
        var first = evaluator.Evaluate(model, data, new Generator(4));
        var second = evaluator.Evaluate(model, data, new Generator(4));
        Assert.Equal(5, first.Count);
        Assert.Equal(first.Bound, second.Bound);
        Assert.False(first.Bound.Any(double.IsNaN));
        var single = new LikelihoodEvaluator(particles: 1).Evaluate(model, data, new Generator(5));
        Assert.Equal(single.Bound, single.Elbo);                                 // L_1 = ELBO estimate
        Assert.All(single.EffectiveSampleSize, ess => Assert.Equal(1, ess, 12));
        Assert.Equal(-single.MeanElbo - single.NegativeLogLikelihood.Average(), single.MeanPriorDivergence, 12);
        Assert.Throws<ArgumentException>(() => new LikelihoodEvaluator(particles: 0));
    }

    [Fact]
    public void BoundRisesWithKTowardsTheExactLogLikelihood()
    {
        using var scope = NewDisposeScope();
        // Gaussian toy away from its optimum: q(z|x) = N(xA + b, (2/3)²I) mismatches the posterior N((x + μ)/2, I/2).
        const int dimension = 3, points = 40, replicas = 40;
        var model = new GaussianToyModel(dimension, dtype: ScalarType.Float64, generator: new Generator(1));
        var (data, _) = GaussianToyModel.GenerateData(dimension, points, seed: 7, dtype: ScalarType.Float64);
        model.SetOptimum(data);
        model.Perturb(0.3, new Generator(2));
        var x = data.repeat(replicas, 1);                                        // [R·N, D]: independent estimates per point
        // Exact log p(x) = log N(x; μ, 2I).
        var exact = LogDensity.Normal(x, model.Mu.detach(), Math.Sqrt(2)).sum(-1).data<double>().ToArray();
        var generator = new Generator(3);
        var estimates = new[] { 1, 10, 100, 1000 }
            .Select(k => new LikelihoodEvaluator(k, particleChunk: 500, batchSize: 400).Evaluate(model, x, generator)).ToArray();
        for (int j = 1; j < estimates.Length; j++)
        {
            // Paired differences over the same data points; the tolerance is the measured Monte Carlo standard error.
            var difference = estimates[j].Bound.Zip(estimates[j - 1].Bound, (a, b) => a - b).ToArray();
            double mean = difference.Average(), standardError = LikelihoodEstimate.StandardError(difference);
            Assert.True(mean > 4 * standardError, $"L_{estimates[j].Particles} − L_{estimates[j - 1].Particles} = {mean:F4} ± {standardError:F4}");
        }
        // L_K ≤ log p(x) in expectation, and the gap shrinks with K.
        var gaps = estimates.Select(e => e.Bound.Zip(exact, (l, p) => l - p).ToArray()).ToArray();
        foreach (var gap in gaps) Assert.True(gap.Average() < 3 * LikelihoodEstimate.StandardError(gap), $"gap {gap.Average():F4}");
        Assert.True(-gaps[^1].Average() < 0.1 * -gaps[0].Average(), $"L_1000 gap {gaps[^1].Average():F4} vs L_1 gap {gaps[0].Average():F4}");
        Assert.True(estimates[^1].MeanPosteriorDivergence > 0);
    }
}

[Collection("Torch")]
public class ActiveUnitsTests
{
    [Fact]
    public void CountsUnitsWhosePosteriorMeanVariesWithX()
    {
        using var scope = NewDisposeScope();
        var model = new GaussianVae(10, 4, 8, 2, ScalarType.Float64);
        var output = (TorchSharp.Modules.Linear)model.named_modules().Single(m => m.name == "encoder.output").module;
        using (no_grad())
        {
            var weight = output.weight!;                                         // rows 2d = mean_d, 2d + 1 = log-std_d
            var generator = new Generator(1);
            weight.copy_(randn(weight.shape, dtype: ScalarType.Float64, generator: generator) * 3);
            foreach (int row in new[] { 1, 3, 4, 5, 6, 7 }) weight[row].zero_();   // units 2, 3 and every log-std ignore x
            output.bias!.copy_(tensor(new[] { 0.1, -3, 0.2, -3, 0.5, -3, -0.5, -3 }, dtype: ScalarType.Float64));   // σ = e^−3
        }
        var data = bernoulli(full(new long[] { 60, 10 }, 0.5, dtype: ScalarType.Float64), generator: new Generator(2));
        var exactVariances = model.Posterior(data).Mean.var(new long[] { 0 }, unbiased: true).data<double>().ToArray();
        Assert.True(exactVariances[0] > 0.01 && exactVariances[1] > 0.01, "units 0 and 1 must depend on x clearly");
        Assert.Equal(0, exactVariances[2], 15);
        var result = ActiveUnits.Compute(model, data, samples: 1000, sampleChunk: 300, batchSize: 16, generator: new Generator(3));
        Assert.Equal((2, 4), (result.Active, result.Units));
        // Monte Carlo means: the inactive units' variance is the MC noise σ²/S = e^−6/1000 ≈ 2.5e−6.
        Assert.InRange(result.Variances[2], 0, 1e-5);
        for (int d = 0; d < 2; d++) Assert.Equal(exactVariances[d], result.Variances[d], exactVariances[d] * 0.05);
    }

    [Fact]
    public void ConcatenatesTheLayersOfADeepModel()
    {
        using var scope = NewDisposeScope();
        var model = new SigmoidBeliefNetwork(6, new[] { 2, 3 });
        var data = bernoulli(full(new long[] { 5, 6 }, 0.5), generator: new Generator(4));
        var result = ActiveUnits.Compute(model, data, samples: 50, generator: new Generator(5));
        Assert.Equal(5, result.Units);
        Assert.Throws<ArgumentException>(() => ActiveUnits.Compute(model, data.narrow(0, 0, 1)));
    }
}
