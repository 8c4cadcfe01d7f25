using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// The TVO-style Gaussian VAE of the paper's budget analysis (experiments.md §2.5, the reference's
/// <c>gaussian-vae</c> model, ovis/models/tvo_gaussian.py): one layer of N independent Gaussian latents with the fixed
/// prior p(z) = N(0, I); encoder trunk D_x → H → tanh → H → tanh followed by two SEPARATE linear heads H → N, one
/// for the mean and one for the log-std, q(z|x) = N(mean, exp(log-std)²) (no clamp), on the raw input x ∈ {0,1}^D_x;
/// decoder MLP N → H → tanh → H → tanh → D_x giving Bernoulli logits of p(x|z). Default (PyTorch) initialisation
/// everywhere, no input centring and no data-mean bias initialisation. It differs from <see cref="GaussianVae"/>
/// (Figure 4) only in q's output layer: two H → N heads instead of one H → 2N layer read as interleaved pairs
/// (experiments.md §6 item 11). z = mean + std·ε is reparameterisable; the encoder runs once per data point, not once
/// per particle. Paper size: D_x = 784, N = 200, H = 200, two hidden layers.
/// </summary>
public sealed class TvoGaussianVae : LatentVariableModel, IBernoulliImageModel, IGenerativeSampler
{
    private readonly Sequential encoder;   // the shared trunk D_x → H → tanh → H → tanh (identity with no hidden layer)
    private readonly Linear mean;          // head H → N
    private readonly Linear logStd;        // head H → N
    private readonly Sequential decoder;

    /// <summary>Create the model.</summary>
    /// <param name="observedSize">D_x (784).</param>
    /// <param name="latentSize">N, the number of Gaussian latents (200).</param>
    /// <param name="hiddenSize">H, units per hidden layer (200).</param>
    /// <param name="hiddenLayers">hidden tanh layers in the encoder trunk and in the decoder (2); with 0 the heads
    /// read x directly and the decoder is linear.</param>
    /// <param name="dtype">parameter dtype.</param>
    public TvoGaussianVae(int observedSize = 784, int latentSize = 200, int hiddenSize = 200, int hiddenLayers = 2, ScalarType dtype = ScalarType.Float32)
        : base("tvo_gaussian_vae")
    {
        if (observedSize <= 0 || latentSize <= 0 || hiddenSize <= 0 || hiddenLayers < 0)
            throw new ArgumentException($"a TVO Gaussian VAE needs positive sizes, got D_x = {observedSize}, N = {latentSize}, H = {hiddenSize}, {hiddenLayers} hidden layers");
        ObservedSize = observedSize;
        LatentSize = latentSize;
        HiddenSize = hiddenSize;
        HiddenLayers = hiddenLayers;
        encoder = nn.Sequential(Trunk(observedSize, hiddenSize, hiddenLayers, dtype));
        int trunkWidth = hiddenLayers > 0 ? hiddenSize : observedSize;
        mean = nn.Linear(trunkWidth, latentSize, dtype: dtype);
        logStd = nn.Linear(trunkWidth, latentSize, dtype: dtype);
        var decoderModules = Trunk(latentSize, hiddenSize, hiddenLayers, dtype);
        decoderModules.Add(("output", nn.Linear(hiddenLayers > 0 ? hiddenSize : latentSize, observedSize, dtype: dtype)));
        decoder = nn.Sequential(decoderModules);
        RegisterComponents();
    }

    /// <summary>The budget analysis's model: D_x = 784, N = 200, H = 200, two hidden layers.</summary>
    public static TvoGaussianVae Paper(ScalarType dtype = ScalarType.Float32) => new(784, 200, 200, 2, dtype);

    /// <summary>linear_i → tanh_i for i &lt; layers, from <paramref name="input"/> to H units.</summary>
    private static List<(string, nn.Module<Tensor, Tensor>)> Trunk(int input, int hidden, int layers, ScalarType dtype)
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

    /// <summary>D_x.</summary>
    public int ObservedSize { get; }

    /// <summary>N.</summary>
    public int LatentSize { get; }

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>Hidden tanh layers per MLP.</summary>
    public int HiddenLayers { get; }

    /// <inheritdoc />
    public override int LatentLayers => 1;

    /// <inheritdoc />
    public override bool CanReparameterize => true;

    /// <inheritdoc />
    /// <remarks>θ: the decoder (the prior is fixed).</remarks>
    public override IReadOnlyList<Parameter> GenerativeParameters() => decoder.parameters().ToArray();

    /// <inheritdoc />
    /// <remarks>φ: the encoder trunk, then the mean head, then the log-std head.</remarks>
    public override IReadOnlyList<Parameter> InferenceParameters()
        => encoder.parameters().Concat(mean.parameters()).Concat(logStd.parameters()).ToArray();

    /// <summary>
    /// q's parameters for each data point: (mean [B, N], log-std [B, N]), from the two heads on the shared trunk's
    /// output; std = exp(log-std).
    /// </summary>
    public (Tensor Mean, Tensor LogStd) Posterior(Tensor x)
    {
        var flat = x.flatten(1).to(ParameterType);                                            // [B, D_x], raw (not centred)
        var hidden = HiddenLayers > 0 ? encoder.forward(flat) : flat;                          // [B, H]
        return (mean.call(hidden), logStd.call(hidden));                                       // [B, N] each
    }

    private ScalarType ParameterType => mean.weight!.dtype;

    private Device ParameterDevice => mean.weight!.device;

    /// <summary>Bernoulli logits of p(x|z) for latents [..., N], giving [..., D_x].</summary>
    public Tensor DecoderLogits(Tensor z) => decoder.forward(z);

    /// <inheritdoc />
    public IReadOnlyList<Tensor> SampleLatentPrior(int count, Generator? generator = null)
    {
        if (count < 1) throw new ArgumentException($"the number of prior samples must be at least 1, got {count}");
        return new[] { randn(new long[] { count, LatentSize }, dtype: ParameterType, device: ParameterDevice, generator: generator) };   // z ~ N(0, I), [N, N_z]
    }

    /// <inheritdoc />
    public Tensor ObservationProbabilities(IReadOnlyList<Tensor> latents)
    {
        if (latents.Count != 1) throw new ArgumentException($"the TVO Gaussian VAE has one latent layer, got {latents.Count}");
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
        var (mu, logSigma) = Posterior(x);
        return new[] { Draw(mu, logSigma, particles, options) };
    }

    /// <inheritdoc />
    public override bool SupportsParticleChunks => true;

    /// <summary>z = mean + exp(log-std)·ε, ε ~ N(0, I) particle-major (<see cref="ParticleNoise"/>), [B, P, N]; detached unless reparameterising.</summary>
    private Tensor Draw(Tensor mu, Tensor logSigma, int particles, SamplingOptions options)
    {
        var noise = ParticleNoise.Normal(mu.shape[0], particles, LatentSize, mu.dtype, mu.device, options.Generator);   // ε [B, P, N]
        if (!options.Reparameterize)
        {
            using var noGrad = no_grad();
            return (mu.unsqueeze(1) + logSigma.exp().unsqueeze(1) * noise).detach();
        }
        return mu.unsqueeze(1) + logSigma.exp().unsqueeze(1) * noise;
    }

    /// <inheritdoc />
    public override ParticleLogDensities Forward(Tensor x, int particles, SamplingOptions options)
    {
        var (mu, logSigma) = Posterior(x);                                                   // once per data point
        var z = Draw(mu, logSigma, particles, options);                                      // [B, P, N]
        return Score(x, z, mu, logSigma, options.DetachPosteriorParameters);
    }

    /// <inheritdoc />
    public override ParticleLogDensities Evaluate(Tensor x, IReadOnlyList<Tensor> latents, bool detachPosteriorParameters = false)
    {
        if (latents.Count != 1) throw new ArgumentException($"the TVO Gaussian VAE has one latent layer, got {latents.Count}");
        var (mu, logSigma) = Posterior(x);
        return Score(x, latents[0], mu, logSigma, detachPosteriorParameters);
    }

    /// <summary>log p(x|z), log p(z) and log q(z|x) at z [B, P, N]; with <paramref name="detach"/> q's mean and
    /// log-std are detached (STL/DReG), while z keeps its path gradient.</summary>
    private ParticleLogDensities Score(Tensor x, Tensor z, Tensor mu, Tensor logSigma, bool detach)
    {
        if (detach) { mu = mu.detach(); logSigma = logSigma.detach(); }
        var logPosterior = LogDensity.Normal(z, mu.unsqueeze(1), logSigma.exp().unsqueeze(1)).sum(-1);    // [B, P]
        var logPrior = LogDensity.Normal(z, zeros_like(z), 1.0).sum(-1);                                // [B, P]
        var logits = decoder.forward(z);                                                                  // [B, P, D_x]
        var observed = x.flatten(1).to(logits.dtype).unsqueeze(1);                                        // [B, 1, D_x]
        var logLikelihood = LogDensity.BernoulliSum(observed, logits);                                    // [B, P]
        return new ParticleLogDensities(logLikelihood, logPrior.unsqueeze(-1), logPosterior.unsqueeze(-1), new[] { z });
    }
}
