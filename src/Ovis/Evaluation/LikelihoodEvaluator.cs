using TorchSharp;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Evaluation;

/// <summary>
/// Per-data-point results of an importance-weighted evaluation with K particles (docs/experiments.md §1.1, §1.5 steps 3–5).
/// </summary>
/// <param name="Particles">K.</param>
/// <param name="Bound">L_K = logsumexp_k log w_k − log K per data point (the estimate of log p(x)).</param>
/// <param name="Elbo">mean_k log w_k per data point.</param>
/// <param name="EffectiveSampleSize">ESS = (Σ_k w_k)² / Σ_k w_k² per data point.</param>
/// <param name="NegativeLogLikelihood">−mean_k log p(x|z_k) per data point ("nll").</param>
public sealed record LikelihoodEstimate(int Particles, double[] Bound, double[] Elbo, double[] EffectiveSampleSize, double[] NegativeLogLikelihood)
{
    /// <summary>Number of data points.</summary>
    public int Count => Bound.Length;

    /// <summary>Mean L_K over the data points (the reported log p̂(x)).</summary>
    public double MeanBound => Bound.Average();

    /// <summary>Standard error of <see cref="MeanBound"/> over the data points (sample std / √N).</summary>
    public double BoundStandardError => StandardError(Bound);

    /// <summary>Mean ELBO estimate.</summary>
    public double MeanElbo => Elbo.Average();

    /// <summary>Mean KL(q‖p(z|x)) estimate L_K − ELBO ("kl_q_p", from the same particles).</summary>
    public double MeanPosteriorDivergence => MeanBound - MeanElbo;

    /// <summary>Mean ESS.</summary>
    public double MeanEffectiveSampleSize => EffectiveSampleSize.Average();

    /// <summary>Mean "kl" = −ELBO − NLL = mean_k [log q − log p(z)].</summary>
    public double MeanPriorDivergence => -MeanElbo - NegativeLogLikelihood.Average();

    /// <summary>Sample standard deviation / √n of <paramref name="values"/> (0 for fewer than 2 values).</summary>
    public static double StandardError(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return Math.Sqrt(variance / values.Count);
    }

    /// <summary>Concatenate the per-point results of several batches evaluated with the same K.</summary>
    public static LikelihoodEstimate Concatenate(IReadOnlyList<LikelihoodEstimate> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to concatenate");
        if (parts.Any(p => p.Particles != parts[0].Particles)) throw new ArgumentException("cannot concatenate estimates with different K");
        return new LikelihoodEstimate(parts[0].Particles, parts.SelectMany(p => p.Bound).ToArray(), parts.SelectMany(p => p.Elbo).ToArray(),
            parts.SelectMany(p => p.EffectiveSampleSize).ToArray(), parts.SelectMany(p => p.NegativeLogLikelihood).ToArray());
    }
}

/// <summary>
/// Streaming, exact reduction of log-weights that arrive in chunks of particles (float64): keeps, per data point,
/// logsumexp_k log w_k, logsumexp_k 2·log w_k, Σ_k log w_k and Σ_k log p(x|z_k). Because
/// logsumexp over all K = logaddexp of the chunks' logsumexps, the result equals the unchunked one up to round-off.
/// </summary>
public sealed class LogWeightAccumulator : IDisposable
{
    private Tensor? logSumWeights;          // [B]
    private Tensor? logSumSquaredWeights;   // [B]
    private Tensor? sumLogWeights;          // [B]
    private Tensor? sumLogLikelihood;       // [B]

    /// <summary>Particles accumulated so far.</summary>
    public long Particles { get; private set; }

    /// <summary>Add a chunk: log-weights and log p(x|z), both [B, C].</summary>
    public void Add(Tensor logWeights, Tensor logLikelihood)
    {
        using var scope = NewDisposeScope();
        var logw = logWeights.detach().to(ScalarType.Float64);                               // [B, C]
        var chunkLse = logw.logsumexp(-1, false);                                             // [B]
        var chunkLse2 = (2 * logw).logsumexp(-1, false);                                      // [B]
        var chunkSum = logw.sum(-1);                                                          // [B]
        var chunkLikelihood = logLikelihood.detach().to(ScalarType.Float64).sum(-1);          // [B]
        Replace(ref logSumWeights, logSumWeights is null ? chunkLse : logaddexp(logSumWeights, chunkLse));
        Replace(ref logSumSquaredWeights, logSumSquaredWeights is null ? chunkLse2 : logaddexp(logSumSquaredWeights, chunkLse2));
        Replace(ref sumLogWeights, sumLogWeights is null ? chunkSum : sumLogWeights + chunkSum);
        Replace(ref sumLogLikelihood, sumLogLikelihood is null ? chunkLikelihood : sumLogLikelihood + chunkLikelihood);
        Particles += logw.shape[1];
    }

    private static void Replace(ref Tensor? field, Tensor value)
    {
        var old = field;
        field = value.DetachFromDisposeScope();   // owned by the accumulator, released in Replace or Dispose
        old?.Dispose();
    }

    /// <summary>The per-point estimate over every particle added.</summary>
    public LikelihoodEstimate Result()
    {
        if (Particles == 0) throw new InvalidOperationException("no particles were accumulated");
        using var scope = NewDisposeScope();
        double logK = Math.Log(Particles);
        var bound = (logSumWeights! - logK).data<double>().ToArray();
        var elbo = (sumLogWeights! / Particles).data<double>().ToArray();
        var ess = (2 * logSumWeights! - logSumSquaredWeights!).exp().data<double>().ToArray();
        var nll = (-sumLogLikelihood! / Particles).data<double>().ToArray();
        return new LikelihoodEstimate((int)Particles, bound, elbo, ess, nll);
    }

    /// <summary>Release the running tensors.</summary>
    public void Dispose()
    {
        logSumWeights?.Dispose();
        logSumSquaredWeights?.Dispose();
        sumLogWeights?.Dispose();
        sumLogLikelihood?.Dispose();
    }
}

/// <summary>
/// Evaluates the importance-weighted bound L_K with a large K (5000 in the paper, docs/experiments.md §1.5 steps 4–5)
/// over a data set in bounded memory: data points in batches of <see cref="BatchSize"/>, particles in chunks of
/// <see cref="ParticleChunk"/>, combined exactly by <see cref="LogWeightAccumulator"/> (α = 0 always). Also
/// gives ELBO, KL(q‖p(z|x)) = L_K − ELBO and ESS from the same particles. Runs without gradient.
/// </summary>
public sealed class LikelihoodEvaluator
{
    /// <summary>Create an evaluator.</summary>
    /// <param name="particles">K (5000).</param>
    /// <param name="particleChunk">particles drawn per forward pass (memory grows with BatchSize × ParticleChunk).</param>
    /// <param name="batchSize">data points per forward pass (the paper's test_bs = 10).</param>
    public LikelihoodEvaluator(int particles = 5000, int particleChunk = 500, int batchSize = 10)
    {
        if (particles <= 0 || particleChunk <= 0 || batchSize <= 0)
            throw new ArgumentException($"K, the particle chunk and the batch size must be positive, got {particles}, {particleChunk}, {batchSize}");
        Particles = particles;
        ParticleChunk = Math.Min(particleChunk, particles);
        BatchSize = batchSize;
    }

    /// <summary>K.</summary>
    public int Particles { get; }

    /// <summary>Particles per forward pass.</summary>
    public int ParticleChunk { get; }

    /// <summary>Data points per forward pass.</summary>
    public int BatchSize { get; }

    /// <summary>Evaluate every row of <paramref name="data"/> [N, ...] (binary images as float), drawing particles from <paramref name="generator"/>.</summary>
    public LikelihoodEstimate Evaluate(LatentVariableModel model, Tensor data, Generator? generator = null)
    {
        var parts = new List<LikelihoodEstimate>();
        long n = data.shape[0];
        for (long start = 0; start < n; start += BatchSize)
        {
            using var scope = NewDisposeScope();
            parts.Add(EvaluateBatch(model, data.narrow(0, start, Math.Min(BatchSize, n - start)), generator));
        }
        return LikelihoodEstimate.Concatenate(parts);
    }

    /// <summary>Evaluate the batches of <paramref name="batches"/> (e.g. a loader's epoch, so dynamic binarisation applies).</summary>
    public LikelihoodEstimate Evaluate(LatentVariableModel model, IEnumerable<Tensor> batches, Generator? generator = null)
    {
        var parts = new List<LikelihoodEstimate>();
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            for (long start = 0; start < batch.shape[0]; start += BatchSize)
                parts.Add(EvaluateBatch(model, batch.narrow(0, start, Math.Min(BatchSize, batch.shape[0] - start)), generator));
        }
        return LikelihoodEstimate.Concatenate(parts);
    }

    /// <summary>Evaluate one batch x [B, ...]: K particles per point, drawn in chunks from the model.</summary>
    public LikelihoodEstimate EvaluateBatch(LatentVariableModel model, Tensor x, Generator? generator = null)
    {
        var options = new SamplingOptions(Reparameterize: false, DetachPosteriorParameters: false, Generator: generator);
        return EvaluateChunks((start, count) => model.Forward(x, (int)count, options));
    }

    /// <summary>
    /// Reduce K particles delivered in chunks: <paramref name="chunk"/>(start, count) returns the densities of
    /// particles [start, start + count). Used with the model's own sampler, or with pre-drawn particles.
    /// </summary>
    public LikelihoodEstimate EvaluateChunks(Func<long, long, ParticleLogDensities> chunk)
    {
        using var noGrad = no_grad();
        using var accumulator = new LogWeightAccumulator();
        for (long start = 0; start < Particles; start += ParticleChunk)
        {
            long count = Math.Min(ParticleChunk, Particles - start);
            using (NewDisposeScope())
            {
                var densities = chunk(start, count);
                accumulator.Add(densities.LogWeights(detachPosterior: true), densities.LogLikelihood);  // [B, C]
            }
            Runtime.ImplicitScalars.Release();                                                  // or they pin the heap between chunks
        }
        return accumulator.Result();
    }
}
