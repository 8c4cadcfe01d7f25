using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// The Gaussian VAE of the paper's Figure 4 (docs/experiments.md §2.4, the ovis <c>VAE</c> class): one layer of N
/// independent Gaussian latents with the fixed prior p(z) = N(0, I);
/// encoder MLP D_x → H → tanh → H → tanh → 2N whose outputs are read as N interleaved (mean, log-std) pairs,
/// q(z|x) = N(mean, exp(log-std)²), on the raw input x ∈ {0,1}^D_x; decoder MLP N → H → tanh → H → tanh → D_x giving
/// Bernoulli logits of p(x|z). Default (PyTorch) initialisation everywhere, no data-dependent initialisation.
/// z = mean + std·ε is reparameterisable; the encoder runs once per data point, not once per particle.
/// Paper size: D_x = 784, N = 200, H = 200, two hidden layers.
/// </summary>
public sealed class GaussianVae : LatentVariableModel, IBernoulliImageModel
{
    private readonly Sequential encoder;
    private readonly Sequential decoder;

    /// <summary>Create the model.</summary>
    /// <param name="observedSize">D_x (784).</param>
    /// <param name="latentSize">N, the number of Gaussian latents (200).</param>
    /// <param name="hiddenSize">H, units per hidden layer (200).</param>
    /// <param name="hiddenLayers">hidden tanh layers in each MLP (2).</param>
    /// <param name="dtype">parameter dtype.</param>
    public GaussianVae(int observedSize = 784, int latentSize = 200, int hiddenSize = 200, int hiddenLayers = 2, ScalarType dtype = ScalarType.Float32)
        : base("gaussian_vae")
    {
        if (observedSize <= 0 || latentSize <= 0 || hiddenSize <= 0 || hiddenLayers < 0)
            throw new ArgumentException($"a Gaussian VAE needs positive sizes, got D_x = {observedSize}, N = {latentSize}, H = {hiddenSize}, {hiddenLayers} hidden layers");
        ObservedSize = observedSize;
        LatentSize = latentSize;
        encoder = Mlp(observedSize, hiddenSize, hiddenLayers, 2 * latentSize, dtype);
        decoder = Mlp(latentSize, hiddenSize, hiddenLayers, observedSize, dtype);
        RegisterComponents();
    }

    /// <summary>The paper's model: D_x = 784, N = 200, H = 200, two hidden layers.</summary>
    public static GaussianVae Paper(ScalarType dtype = ScalarType.Float32) => new(784, 200, 200, 2, dtype);

    private static Sequential Mlp(int input, int hidden, int layers, int output, ScalarType dtype)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        int width = input;
        for (int i = 0; i < layers; i++)
        {
            modules.Add(($"linear{i}", nn.Linear(width, hidden, dtype: dtype)));
            modules.Add(($"tanh{i}", nn.Tanh()));
            width = hidden;
        }
        modules.Add(("output", nn.Linear(width, output, dtype: dtype)));
        return nn.Sequential(modules);
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
    public override IReadOnlyList<Parameter> GenerativeParameters() => decoder.parameters().ToArray();

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> InferenceParameters() => encoder.parameters().ToArray();

    /// <summary>
    /// q's parameters for each data point: (mean [B, N], log-std [B, N]), read from the encoder's 2N outputs as
    /// interleaved pairs (output 2d = mean_d, output 2d + 1 = log-std_d).
    /// </summary>
    public (Tensor Mean, Tensor LogStd) Posterior(Tensor x)
    {
        var flat = x.flatten(1).to(ParameterType);                                            // [B, D_x]
        var pairs = encoder.forward(flat).view(flat.shape[0], LatentSize, 2);               // [B, N, 2]
        return (pairs.select(-1, 0), pairs.select(-1, 1));
    }

    private ScalarType ParameterType => encoder.parameters().First().dtype;

    /// <summary>Bernoulli logits of p(x|z) for latents [..., N], giving [..., D_x].</summary>
    public Tensor DecoderLogits(Tensor z) => decoder.forward(z);

    /// <inheritdoc />
    public IReadOnlyList<Tensor> SampleLatentPrior(int count, Generator? generator = null)
    {
        if (count < 1) throw new ArgumentException($"the number of prior samples must be at least 1, got {count}");
        return new[] { randn(new long[] { count, LatentSize }, dtype: ParameterType, generator: generator) };   // z ~ N(0, I), [N, N_z]
    }

    /// <inheritdoc />
    public Tensor ObservationProbabilities(IReadOnlyList<Tensor> latents)
    {
        if (latents.Count != 1) throw new ArgumentException($"the Gaussian VAE has one latent layer, got {latents.Count}");
        using var noGrad = no_grad();
        return DecoderLogits(latents[0]).sigmoid();                                            // [..., D_x]
    }

    /// <inheritdoc />
    public override IReadOnlyList<Tensor> Sample(Tensor x, int particles, SamplingOptions options)
    {
        var (mean, logStd) = Posterior(x);
        return new[] { Draw(mean, logStd, particles, options) };
    }

    /// <inheritdoc />
    public override bool SupportsParticleChunks => true;

    /// <summary>z = mean + exp(log-std)·ε, ε ~ N(0, I) particle-major (<see cref="ParticleNoise"/>), [B, P, N]; detached unless reparameterising.</summary>
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
        if (latents.Count != 1) throw new ArgumentException($"the Gaussian VAE has one latent layer, got {latents.Count}");
        var (mean, logStd) = Posterior(x);
        return Score(x, latents[0], mean, logStd, detachPosteriorParameters);
    }

    /// <summary>log p(x|z), log p(z) and log q(z|x) at z [B, P, N]; with <paramref name="detach"/> q's mean and
    /// log-std are detached (STL/DReG), while z keeps its path gradient.</summary>
    private ParticleLogDensities Score(Tensor x, Tensor z, Tensor mean, Tensor logStd, bool detach)
    {
        if (detach) { mean = mean.detach(); logStd = logStd.detach(); }
        var logPosterior = LogDensity.Normal(z, mean.unsqueeze(1), logStd.exp().unsqueeze(1)).sum(-1);  // [B, P]
        var logPrior = LogDensity.Normal(z, zeros_like(z), 1.0).sum(-1);                                // [B, P]
        var logits = decoder.forward(z);                                                                  // [B, P, D_x]
        var observed = x.flatten(1).to(logits.dtype).unsqueeze(1);                                        // [B, 1, D_x]
        var logLikelihood = LogDensity.BernoulliSum(observed, logits);                                    // [B, P]
        return new ParticleLogDensities(logLikelihood, logPrior.unsqueeze(-1), logPosterior.unsqueeze(-1), new[] { z });
    }
}
