using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// The Gaussian mixture model of paper Figure 2 (docs/experiments.md §2.2; Le et al. 2019):
/// <list type="bullet">
/// <item>prior p_θ(c) = Cat(softmax θ), θ ∈ R^C learnable, initialised to 0 (uniform);</item>
/// <item>likelihood p(x|c) = N(x; 10c, 5²), fixed;</item>
/// <item>posterior q_φ(c|x) = Cat(softmax η_φ(x)), η_φ = Linear(1→16) → tanh → Linear(16→C) on the raw scalar x;</item>
/// <item>true prior π*_c = (c + 5)/Σ_c'(c' + 5) = (c + 5)/290 for C = 20.</item>
/// </list>
/// The latent is one layer holding the one-hot code of c, [B, P, C]. The C configurations are enumerable, so the
/// exact oracle applies (<see cref="IEnumerableLatents"/>). θ is named <c>theta</c>, the network's layers
/// <c>phi_hidden</c> and <c>phi_output</c> (the reference's gradient key is <c>phi</c>).
/// </summary>
public sealed class GaussianMixtureModel : LatentVariableModel, IEnumerableLatents
{
    /// <summary>Distance between neighbouring cluster means (means 10c).</summary>
    public const double MeanSpacing = 10;

    /// <summary>Standard deviation of every cluster (σ = 5).</summary>
    public const double ClusterStd = 5;

    private readonly Parameter theta;        // prior logits θ, [C]
    private readonly Linear phi_hidden;      // Linear(1 → H)
    private readonly Linear phi_output;      // Linear(H → C)
    private readonly Tensor clusterMeans;    // 10c, [C]
    private readonly Tensor truePrior;       // π*, [C]

    /// <summary>Create the model.</summary>
    /// <param name="clusters">C, the number of clusters (20 in the paper).</param>
    /// <param name="hidden">hidden units of η_φ (16 in the paper).</param>
    /// <param name="dtype">parameter dtype (float64 for the exact oracle).</param>
    /// <param name="generator">generator for the network's initialisation: weight and bias i.i.d.
    /// U(−1/√fan_in, 1/√fan_in) (PyTorch's default, docs/experiments.md §1.3); null uses the global one.</param>
    public GaussianMixtureModel(int clusters = 20, int hidden = 16, ScalarType dtype = ScalarType.Float32, Generator? generator = null)
        : base("gaussian_mixture")
    {
        if (clusters < 2 || hidden < 1) throw new ArgumentException($"the Gaussian mixture needs at least 2 clusters and 1 hidden unit, got C = {clusters}, H = {hidden}");
        Clusters = clusters;
        theta = new Parameter(zeros(clusters, dtype: dtype));
        phi_hidden = nn.Linear(1, hidden, dtype: dtype);
        phi_output = nn.Linear(hidden, clusters, dtype: dtype);
        clusterMeans = arange(clusters, dtype: dtype) * MeanSpacing;
        var unnormalised = arange(clusters, dtype: dtype) + 5;
        truePrior = unnormalised / unnormalised.sum();
        RegisterComponents();
        using var noGrad = no_grad();
        foreach (var layer in new[] { phi_hidden, phi_output })
        {
            double bound = 1 / Math.Sqrt(layer.weight!.shape[1]);
            foreach (var p in new[] { layer.weight!, layer.bias! })
                p.copy_((rand(p.shape, dtype: dtype, generator: generator) * 2 - 1) * bound);
        }
    }

    /// <summary>C, the number of clusters.</summary>
    public int Clusters { get; }

    /// <summary>The prior logits θ.</summary>
    public Parameter PriorLogits => theta;

    /// <summary>The true prior π*_c = (c + 5)/Σ(c' + 5), [C].</summary>
    public Tensor TruePrior => truePrior;

    /// <inheritdoc />
    public override int LatentLayers => 1;

    /// <inheritdoc />
    public override bool CanReparameterize => false;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> GenerativeParameters() => new[] { theta };

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> InferenceParameters()
        => new[] { phi_hidden.weight!, phi_hidden.bias!, phi_output.weight!, phi_output.bias! };

    /// <summary>η_φ(x), the logits of q_φ(c|x), [B, C] for x [B, 1].</summary>
    public Tensor PosteriorLogits(Tensor x, bool detachParameters = false)
    {
        var input = x.reshape(-1, 1).to(theta.dtype);                                          // [B, 1]
        if (!detachParameters) return phi_output.forward(phi_hidden.forward(input).tanh());
        var hidden = nn.functional.linear(input, phi_hidden.weight!.detach(), phi_hidden.bias!.detach()).tanh();
        return nn.functional.linear(hidden, phi_output.weight!.detach(), phi_output.bias!.detach());
    }

    /// <summary>log p(x|c) = log N(x; 10c, 5²) for every cluster, [B, C].</summary>
    public Tensor ClusterLogLikelihoods(Tensor x)
        => LogDensity.Normal(x.reshape(-1, 1).to(theta.dtype), clusterMeans.unsqueeze(0), ClusterStd);

    /// <summary>The exact posterior p_θ*(c|x) ∝ π*_c · N(x; 10c, 5²) under the true prior, [B, C].</summary>
    public Tensor TruePosterior(Tensor x)
    {
        using var noGrad = no_grad();
        return (truePrior.log().unsqueeze(0) + ClusterLogLikelihoods(x)).softmax(-1);
    }

    /// <inheritdoc />
    public override IReadOnlyList<Tensor> Sample(Tensor x, int particles, SamplingOptions options)
        => new[] { Draw(PosteriorLogits(x, detachParameters: true), particles, options.Generator) };

    /// <summary>
    /// c ~ Categorical(softmax(logits)) per particle by inverting the cumulative probabilities at a particle-major
    /// uniform draw (<see cref="ParticleNoise"/>), as a one-hot [B, P, C].
    /// </summary>
    private Tensor Draw(Tensor logits, int particles, Generator? generator)
    {
        using var noGrad = no_grad();
        var cumulative = logits.detach().softmax(-1).cumsum(-1);                               // [B, C]
        var uniform = ParticleNoise.Uniform(logits.shape[0], particles, 1, logits.dtype, logits.device, generator);   // [B, P, 1]
        var index = uniform.ge(cumulative.unsqueeze(1)).sum(-1).clamp_max(Clusters - 1);      // [B, P]: the first c with u < F(c)
        return nn.functional.one_hot(index, Clusters).to(theta.dtype);                        // [B, P, C]
    }

    /// <inheritdoc />
    public override bool SupportsParticleChunks => true;

    /// <inheritdoc />
    public override ParticleLogDensities Forward(Tensor x, int particles, SamplingOptions options)
    {
        if (options.Reparameterize)
            throw new NotSupportedException("the Gaussian mixture model has a categorical latent and cannot reparameterise its samples");
        var logits = PosteriorLogits(x, options.DetachPosteriorParameters);                    // [B, C]
        var z = Draw(logits, particles, options.Generator);                                    // [B, P, C]
        return Densities(x, z, logits);
    }

    /// <inheritdoc />
    public override ParticleLogDensities Evaluate(Tensor x, IReadOnlyList<Tensor> latents, bool detachPosteriorParameters = false)
    {
        if (latents.Count != 1) throw new ArgumentException($"the Gaussian mixture has one latent layer, got {latents.Count}");
        if (latents[0].shape[^1] != Clusters)
            throw new ArgumentException($"the Gaussian mixture's latent is a one-hot code of length {Clusters}, got length {latents[0].shape[^1]}");
        return Densities(x, latents[0], PosteriorLogits(x, detachPosteriorParameters));
    }

    /// <summary>The log-densities at one-hot latents z [B, P, C] given q's logits [B, C].</summary>
    private ParticleLogDensities Densities(Tensor x, Tensor z, Tensor logits)
    {
        var logLikelihood = (z * ClusterLogLikelihoods(x).unsqueeze(1)).sum(-1);              // [B, P]
        var logPrior = (z * theta.log_softmax(-1)).sum(-1);                                    // [B, P]
        var logPosterior = (z * logits.log_softmax(-1).unsqueeze(1)).sum(-1);                  // [B, P]
        return new ParticleLogDensities(logLikelihood, logPrior.unsqueeze(-1), logPosterior.unsqueeze(-1), new[] { z });
    }

    /// <inheritdoc />
    public IReadOnlyList<Tensor> EnumerateConfigurations() => new[] { eye(Clusters, dtype: theta.dtype) };

    /// <summary>
    /// Posterior error (docs/experiments.md §2.2, <c>gmm/posterior_mse</c> in the reference; an L2 norm, not squared):
    /// mean over x of ‖softmax η_φ(x) − p_θ*(·|x)‖₂.
    /// </summary>
    public double PosteriorError(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return PosteriorError(PosteriorLogits(x).softmax(-1), TruePosterior(x));
    }

    /// <summary>Mean over rows of the L2 distance between two [B, C] probability tables (the posterior error).</summary>
    public static double PosteriorError(Tensor posterior, Tensor truePosterior)
    {
        using var scope = NewDisposeScope();
        return (posterior.to(float64) - truePosterior.to(float64)).square().sum(-1).sqrt().mean().ToDouble();
    }

    /// <summary>Prior error (docs/experiments.md §2.2, <c>gmm/prior_mse</c> in the reference): ‖softmax θ − π*‖₂.</summary>
    public double PriorError()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return (theta.softmax(-1).to(float64) - truePrior.to(float64)).square().sum().sqrt().ToDouble();
    }

    /// <summary>
    /// Draw data from the true model: c ~ π*, x ~ N(10c, 5²), [N, 1] in the model's dtype (the infinite data stream
    /// of docs/experiments.md §2.2).
    /// </summary>
    public Tensor SampleData(int count, Generator? generator = null)
    {
        using var noGrad = no_grad();
        var cluster = multinomial(truePrior.to(float64), count, replacement: true, generator: generator).to(float64);   // [N]
        var noise = randn(new long[] { count }, dtype: float64, generator: generator);
        return (cluster * MeanSpacing + ClusterStd * noise).to(theta.dtype).unsqueeze(1);     // [N, 1]
    }
}
