using TorchSharp;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Evaluation;

/// <summary>Result of the active-units analysis.</summary>
/// <param name="Active">number of units with Cov_x(E_q[z_d|x]) above the threshold.</param>
/// <param name="Units">number of latent units (all layers concatenated).</param>
/// <param name="Variances">Cov_x(E_q[z_d|x]) per unit (unbiased over the data points).</param>
/// <param name="Threshold">the threshold used.</param>
public sealed record ActiveUnitsResult(int Active, int Units, double[] Variances, double Threshold);

/// <summary>
/// Active units (Burda et al.; docs/experiments.md §1.5 step 1): estimate E_q[z_d|x] per data point by the mean of S
/// samples from q (S = 1000), concatenate all stochastic layers, and count the units whose unbiased variance over
/// the data points exceeds 1e−3 (the ovis threshold; Burda et al. use 1e−2).
/// </summary>
public static class ActiveUnits
{
    /// <summary>The ovis threshold on Cov_x(E_q[z_d|x]).</summary>
    public const double DefaultThreshold = 1e-3;

    /// <summary>Run the analysis on every row of <paramref name="data"/> [N, ...] (N ≥ 2).</summary>
    /// <param name="model">the model whose q is analysed.</param>
    /// <param name="data">data points (binary images as float).</param>
    /// <param name="samples">S, samples of q per data point for the Monte Carlo mean.</param>
    /// <param name="sampleChunk">samples drawn per pass (bounds memory).</param>
    /// <param name="batchSize">data points per pass.</param>
    /// <param name="threshold">variance threshold.</param>
    /// <param name="generator">random generator.</param>
    public static ActiveUnitsResult Compute(LatentVariableModel model, Tensor data, int samples = 1000, int sampleChunk = 500, int batchSize = 10,
                                            double threshold = DefaultThreshold, Generator? generator = null)
    {
        long n = data.shape[0];
        if (n < 2) throw new ArgumentException($"the active-units analysis needs at least 2 data points, got {n}");
        if (samples <= 0 || sampleChunk <= 0 || batchSize <= 0) throw new ArgumentException("samples, sample chunk and batch size must be positive");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var options = new SamplingOptions(Reparameterize: false, Generator: generator);
        var means = new List<Tensor>();
        for (long start = 0; start < n; start += batchSize)
        {
            var x = data.narrow(0, start, Math.Min(batchSize, n - start));
            Tensor? sum = null;                                                               // [B, ΣD_l]
            for (int drawn = 0; drawn < samples; drawn += sampleChunk)
            {
                using var chunkScope = NewDisposeScope();
                int count = Math.Min(sampleChunk, samples - drawn);
                var latents = cat(model.Sample(x, count, options).ToArray(), -1);           // [B, C, ΣD_l]
                var chunkSum = latents.to(ScalarType.Float64).sum(1);                         // [B, ΣD_l]
                sum = (sum is null ? chunkSum : sum + chunkSum).MoveToOuterDisposeScope();
            }
            means.Add(sum! / samples);                                                        // [B, ΣD_l] ≈ E_q[z|x]
        }
        var posteriorMeans = cat(means.ToArray(), 0);                                         // [N, ΣD_l]
        var variances = posteriorMeans.var(new long[] { 0 }, unbiased: true).data<double>().ToArray();  // [ΣD_l]
        return new ActiveUnitsResult(variances.Count(v => v > threshold), variances.Length, variances, threshold);
    }
}
