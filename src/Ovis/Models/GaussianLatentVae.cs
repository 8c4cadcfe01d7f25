using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// What the two bundled Gaussian VAEs share (docs/experiments.md §2.4–2.5): one layer of N independent Gaussian latents
/// with the fixed prior p(z) = N(0, I), q(z|x) = N(mean, exp(log-std)²) computed once per data point, the
/// reparameterised draw z = mean + exp(log-std)·ε with ε particle-major (<see cref="ParticleNoise"/>), and a Bernoulli
/// decoder p(x|z) over D_x pixels. A subclass owns its modules and says how it computes q's parameters
/// (<see cref="Posterior"/>) and the decoder's logits (<see cref="DecoderLogits"/>).
/// </summary>
public abstract class GaussianLatentVae : LatentVariableModel, IBernoulliImageModel, IGenerativeSampler
{
    /// <summary>Record the sizes; the subclass creates and registers its modules.</summary>
    /// <param name="name">the module name.</param>
    /// <param name="observedSize">D_x.</param>
    /// <param name="latentSize">N.</param>
    protected GaussianLatentVae(string name, int observedSize, int latentSize) : base(name)
    {
        ObservedSize = observedSize;
        LatentSize = latentSize;
    }

    /// <summary>D_x.</summary>
    public int ObservedSize { get; }

    /// <summary>N.</summary>
    public int LatentSize { get; }

    /// <inheritdoc />
    public override int LatentLayers => 1;

    /// <inheritdoc />
    public override bool CanReparameterize => true;

    /// <inheritdoc />
    public override bool SupportsParticleChunks => true;

    /// <summary>q's parameters for each data point x [B, ...]: (mean [B, N], log-std [B, N]).</summary>
    public abstract (Tensor Mean, Tensor LogStd) Posterior(Tensor x);

    /// <summary>Bernoulli logits of p(x|z) for latents [..., N], giving [..., D_x].</summary>
    public abstract Tensor DecoderLogits(Tensor z);

    /// <summary>The hidden part of an MLP: linear_i → tanh_i for i &lt; <paramref name="layers"/>, from
    /// <paramref name="input"/> to <paramref name="hidden"/> units (no modules when <paramref name="layers"/> is 0).</summary>
    protected static List<(string, nn.Module<Tensor, Tensor>)> TanhLayers(int input, int hidden, int layers, ScalarType dtype)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        int width = input;
        for (int i = 0; i < layers; i++)
        {
            modules.Add(($"linear{i}", nn.Linear(width, hidden, dtype: dtype)));
            modules.Add(($"tanh{i}", nn.Tanh()));
            width = hidden;
        }
        return modules;
    }

    private Tensor AnyParameter => parameters().First();

    /// <summary>The dtype of the model's parameters, to which a subclass converts its input.</summary>
    protected ScalarType ParameterType => AnyParameter.dtype;

    /// <inheritdoc />
    public IReadOnlyList<Tensor> SampleLatentPrior(int count, Generator? generator = null)
    {
        if (count < 1) throw new ArgumentException($"the number of prior samples must be at least 1, got {count}");
        var parameter = AnyParameter;
        return new[] { randn(new long[] { count, LatentSize }, dtype: parameter.dtype, device: parameter.device, generator: generator) };   // z ~ N(0, I), [N, N_z]
    }

    /// <inheritdoc />
    public Tensor ObservationProbabilities(IReadOnlyList<Tensor> latents)
    {
        CheckOneLayer(latents);
        using var noGrad = no_grad();
        return DecoderLogits(latents[0]).sigmoid();                                            // [..., D_x]
    }

    /// <inheritdoc />
    /// <remarks>z ~ N(0, I) [N, N_z], then x ~ Bernoulli(sigmoid(decoder(z))) [N, D_x] with x in the parameter dtype.</remarks>
    public (Tensor x, IReadOnlyList<Tensor> latents) SamplePrior(int count, Generator? generator = null)
    {
        var latents = SampleLatentPrior(count, generator);
        using var noGrad = no_grad();
        var probabilities = DecoderLogits(latents[0]).sigmoid();                                // [N, D_x]
        var uniform = rand(probabilities.shape, dtype: probabilities.dtype, device: probabilities.device, generator: generator);
        return (uniform.lt(probabilities).to(probabilities.dtype), latents);                    // 1[u < p], [N, D_x]
    }

    /// <inheritdoc />
    public override IReadOnlyList<Tensor> Sample(Tensor x, int particles, SamplingOptions options)
    {
        var (mean, logStd) = Posterior(x);
        return new[] { Draw(mean, logStd, particles, options) };
    }

    /// <inheritdoc />
    public override ParticleLogDensities Forward(Tensor x, int particles, SamplingOptions options)
    {
        var (mean, logStd) = Posterior(x);                                                   // once per data point
        var z = Draw(mean, logStd, particles, options);                                      // [B, P, N]
        return Score(x, z, mean, logStd, options.DetachPosteriorParameters);
    }

    /// <inheritdoc />
    public override ParticleLogDensities Evaluate(Tensor x, IReadOnlyList<Tensor> latents, bool detachPosteriorParameters = false)
    {
        CheckOneLayer(latents);
        var (mean, logStd) = Posterior(x);
        return Score(x, latents[0], mean, logStd, detachPosteriorParameters);
    }

    private static void CheckOneLayer(IReadOnlyList<Tensor> latents)
    {
        if (latents.Count != 1) throw new ArgumentException($"a Gaussian VAE has one latent layer, got {latents.Count}");
    }

    /// <summary>z = mean + exp(log-std)·ε, ε ~ N(0, I) particle-major, [B, P, N]; detached unless reparameterising.</summary>
    private Tensor Draw(Tensor mean, Tensor logStd, int particles, SamplingOptions options)
    {
        var noise = ParticleNoise.Normal(mean.shape[0], particles, LatentSize, mean.dtype, mean.device, options.Generator);   // ε [B, P, N]
        if (!options.Reparameterize)
        {
            using var noGrad = no_grad();
            return (mean.unsqueeze(1) + logStd.exp().unsqueeze(1) * noise).detach();
        }
        return mean.unsqueeze(1) + logStd.exp().unsqueeze(1) * noise;
    }

    /// <summary>log p(x|z), log p(z) and log q(z|x) at z [B, P, N]; with <paramref name="detach"/> q's mean and
    /// log-std are detached (STL/DReG), while z keeps its path gradient.</summary>
    private ParticleLogDensities Score(Tensor x, Tensor z, Tensor mean, Tensor logStd, bool detach)
    {
        if (detach) { mean = mean.detach(); logStd = logStd.detach(); }
        var logPosterior = LogDensity.Normal(z, mean.unsqueeze(1), logStd.exp().unsqueeze(1)).sum(-1);  // [B, P]
        var logPrior = LogDensity.Normal(z, zeros_like(z), 1.0).sum(-1);                                // [B, P]
        var logits = DecoderLogits(z);                                                                    // [B, P, D_x]
        var observed = x.flatten(1).to(logits.dtype).unsqueeze(1);                                        // [B, 1, D_x]
        var logLikelihood = LogDensity.BernoulliSum(observed, logits);                                    // [B, P]
        return new ParticleLogDensities(logLikelihood, logPrior.unsqueeze(-1), logPosterior.unsqueeze(-1), new[] { z });
    }
}
