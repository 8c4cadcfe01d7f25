using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>Which spread the Gaussian toy's q uses (experiments.md §2.1, estimators.md §5.4, §9.7).</summary>
public enum GaussianToySpread
{
    /// <summary>standard deviation 2/3, as in the reference code (the default, matches the paper's figures).</summary>
    StandardDeviationTwoThirds,
    /// <summary>variance 2/3, as stated by Rainforth et al. (2018).</summary>
    VarianceTwoThirds,
}

/// <summary>
/// The Gaussian toy of the asymptotic study (Rainforth et al. 2018; experiments.md §2.1):
/// p(z) = N(μ, I), p(x|z) = N(z, I), q(z|x) = N(xA + b, s²I) with a fixed s. θ = μ, φ = (A, b).
/// The exact posterior is N((x + μ)/2, I/2), so the optimum is μ* = mean(x), A* = I/2, b* = μ*/2.
/// One stochastic layer; reparameterisable.
/// </summary>
public sealed class GaussianToyModel : LatentVariableModel, IGenerativeSampler
{
    private readonly Parameter mu;   // θ, [D]
    private readonly Parameter A;    // φ, [D, D]
    private readonly Parameter b;    // φ, [D]

    /// <summary>Create the model with every parameter entry drawn from U[1.5, 2.5) (the reference initialisation).</summary>
    public GaussianToyModel(int dimension, GaussianToySpread spread = GaussianToySpread.StandardDeviationTwoThirds,
                            ScalarType dtype = ScalarType.Float32, Generator? generator = null)
        : base("gaussian_toy")
    {
        if (dimension <= 0) throw new ArgumentException("the Gaussian toy needs a positive dimension");
        Dimension = dimension;
        Spread = spread;
        PosteriorStd = spread == GaussianToySpread.StandardDeviationTwoThirds ? 2.0 / 3.0 : Math.Sqrt(2.0 / 3.0);
        mu = new Parameter(rand(new long[] { dimension }, dtype: dtype, generator: generator) + 1.5);
        A = new Parameter(rand(new long[] { dimension, dimension }, dtype: dtype, generator: generator) + 1.5);
        b = new Parameter(rand(new long[] { dimension }, dtype: dtype, generator: generator) + 1.5);
        RegisterComponents();
    }

    /// <summary>D, the dimension of x and z.</summary>
    public int Dimension { get; }

    /// <summary>Which definition of q's spread is used.</summary>
    public GaussianToySpread Spread { get; }

    /// <summary>s, the fixed standard deviation of q.</summary>
    public double PosteriorStd { get; }

    /// <summary>μ (θ).</summary>
    public Parameter Mu => mu;
    /// <summary>A (φ).</summary>
    public Parameter Weight => A;
    /// <summary>b (φ).</summary>
    public Parameter Bias => b;

    /// <inheritdoc />
    public override int LatentLayers => 1;

    /// <inheritdoc />
    public override bool CanReparameterize => true;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> GenerativeParameters() => new[] { mu };

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> InferenceParameters() => new[] { A, b };

    private Tensor PosteriorMean(Tensor x, bool detach)
        => detach ? x.matmul(A.detach()) + b.detach() : x.matmul(A) + b;                  // [B, D]

    /// <inheritdoc />
    public override IReadOnlyList<Tensor> Sample(Tensor x, int particles, SamplingOptions options)
    {
        var mean = PosteriorMean(x, detach: false).unsqueeze(1);                             // [B, 1, D]
        var noise = randn(new long[] { x.shape[0], particles, Dimension }, dtype: mean.dtype, generator: options.Generator);
        var z = mean + PosteriorStd * noise;                                                 // [B, P, D]
        return new[] { options.Reparameterize ? z : z.detach() };
    }

    /// <inheritdoc />
    public override ParticleLogDensities Evaluate(Tensor x, IReadOnlyList<Tensor> latents, bool detachPosteriorParameters = false)
    {
        if (latents.Count != 1) throw new ArgumentException($"the Gaussian toy has one latent layer, got {latents.Count}");
        var z = latents[0];                                                                  // [B, P, D]
        var observed = x.unsqueeze(1);                                                       // [B, 1, D]
        var logLikelihood = LogDensity.Normal(observed, z, 1.0).sum(-1);                    // [B, P]
        var logPrior = LogDensity.Normal(z, mu, 1.0).sum(-1);                               // [B, P]
        var mean = PosteriorMean(x, detachPosteriorParameters).unsqueeze(1);
        var logPosterior = LogDensity.Normal(z, mean, PosteriorStd).sum(-1);                // [B, P]
        return new ParticleLogDensities(logLikelihood, logPrior.unsqueeze(-1), logPosterior.unsqueeze(-1), latents);
    }

    /// <summary>Draw z ~ N(μ, I) and x ~ N(z, I) without gradient: x [N, D] and z [N, D].</summary>
    public (Tensor x, IReadOnlyList<Tensor> latents) SamplePrior(int count, Generator? generator = null)
    {
        if (count < 1) throw new ArgumentException($"the number of prior samples must be at least 1, got {count}");
        using var noGrad = no_grad();
        var z = mu.detach() + randn(new long[] { count, Dimension }, dtype: mu.dtype, generator: generator);   // [N, D]
        var x = z + randn(new long[] { count, Dimension }, dtype: mu.dtype, generator: generator);             // [N, D]
        return (x, new[] { z });
    }

    /// <summary>Set (μ, A, b) to the optimum for the data set x [N, D]: μ* = mean(x), A* = I/2, b* = μ*/2.</summary>
    public void SetOptimum(Tensor data)
    {
        using var noGrad = no_grad();
        var mean = data.mean(new long[] { 0 }).to(mu.dtype);
        mu.copy_(mean);
        A.copy_(eye(Dimension, dtype: A.dtype) / 2);
        b.copy_(mean / 2);
    }

    /// <summary>Add i.i.d. N(0, ε²) noise to every entry of μ, A and b (the perturbed evaluation point of Fig. 1).</summary>
    public void Perturb(double epsilon, Generator? generator = null)
    {
        using var noGrad = no_grad();
        foreach (var p in new[] { mu, A, b }) p.add_(randn(p.shape, dtype: p.dtype, generator: generator) * epsilon);
    }

    /// <summary>
    /// The toy's data set: μ_true ~ N(0, I) and then N points x = z + noise with z ~ N(μ_true, I), drawn from one
    /// generator seeded with <paramref name="seed"/> (42 in the reference). Returns (x [N, D], μ_true [D]).
    /// </summary>
    public static (Tensor data, Tensor trueMean) GenerateData(int dimension, int points, long seed = 42, ScalarType dtype = ScalarType.Float32)
    {
        var generator = new Generator((ulong)seed);
        var trueMean = randn(new long[] { dimension }, dtype: float64, generator: generator);
        var z = trueMean + randn(new long[] { points, dimension }, dtype: float64, generator: generator);
        var x = z + randn(new long[] { points, dimension }, dtype: float64, generator: generator);
        return (x.to(dtype), trueMean.to(dtype));
    }
}
