using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// The TVO-style Gaussian VAE of the paper's budget analysis (docs/experiments.md §2.5, the reference's
/// <c>gaussian-vae</c> model, ovis/models/tvo_gaussian.py): one layer of N independent Gaussian latents with the fixed
/// prior p(z) = N(0, I); encoder trunk D_x → H → tanh → H → tanh followed by two SEPARATE linear heads H → N, one
/// for the mean and one for the log-std, q(z|x) = N(mean, exp(log-std)²) (no clamp), on the raw input x ∈ {0,1}^D_x;
/// decoder MLP N → H → tanh → H → tanh → D_x giving Bernoulli logits of p(x|z). Default (PyTorch) initialisation
/// everywhere, no input centring and no data-mean bias initialisation. It differs from <see cref="GaussianVae"/>
/// (Figure 4) only in q's output layer: two H → N heads instead of one H → 2N layer read as interleaved pairs
/// (docs/experiments.md §6 item 11). z = mean + std·ε is reparameterisable; the encoder runs once per data point, not once
/// per particle. Paper size: D_x = 784, N = 200, H = 200, two hidden layers.
/// </summary>
public sealed class TvoGaussianVae : GaussianLatentVae
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
        : base("tvo_gaussian_vae", observedSize, latentSize)
    {
        if (observedSize <= 0 || latentSize <= 0 || hiddenSize <= 0 || hiddenLayers < 0)
            throw new ArgumentException($"a TVO Gaussian VAE needs positive sizes, got D_x = {observedSize}, N = {latentSize}, H = {hiddenSize}, {hiddenLayers} hidden layers");
        HiddenSize = hiddenSize;
        HiddenLayers = hiddenLayers;
        encoder = nn.Sequential(TanhLayers(observedSize, hiddenSize, hiddenLayers, dtype));
        int trunkWidth = hiddenLayers > 0 ? hiddenSize : observedSize;
        mean = nn.Linear(trunkWidth, latentSize, dtype: dtype);
        logStd = nn.Linear(trunkWidth, latentSize, dtype: dtype);
        var decoderModules = TanhLayers(latentSize, hiddenSize, hiddenLayers, dtype);
        decoderModules.Add(("output", nn.Linear(hiddenLayers > 0 ? hiddenSize : latentSize, observedSize, dtype: dtype)));
        decoder = nn.Sequential(decoderModules);
        RegisterComponents();
    }

    /// <summary>The budget analysis's model: D_x = 784, N = 200, H = 200, two hidden layers.</summary>
    public static TvoGaussianVae Paper(ScalarType dtype = ScalarType.Float32) => new(784, 200, 200, 2, dtype);

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>Hidden tanh layers per MLP.</summary>
    public int HiddenLayers { get; }

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
    public override (Tensor Mean, Tensor LogStd) Posterior(Tensor x)
    {
        var flat = x.flatten(1).to(ParameterType);                                            // [B, D_x], raw (not centred)
        var hidden = HiddenLayers > 0 ? encoder.forward(flat) : flat;                          // [B, H]
        return (mean.call(hidden), logStd.call(hidden));                                       // [B, N] each
    }

    /// <inheritdoc />
    public override Tensor DecoderLogits(Tensor z) => decoder.forward(z);                   // [..., N] → [..., D_x]
}
