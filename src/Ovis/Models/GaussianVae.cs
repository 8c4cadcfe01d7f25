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
public sealed class GaussianVae : GaussianLatentVae
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
        : base("gaussian_vae", observedSize, latentSize)
    {
        if (observedSize <= 0 || latentSize <= 0 || hiddenSize <= 0 || hiddenLayers < 0)
            throw new ArgumentException($"a Gaussian VAE needs positive sizes, got D_x = {observedSize}, N = {latentSize}, H = {hiddenSize}, {hiddenLayers} hidden layers");
        encoder = Mlp(observedSize, hiddenSize, hiddenLayers, 2 * latentSize, dtype);
        decoder = Mlp(latentSize, hiddenSize, hiddenLayers, observedSize, dtype);
        RegisterComponents();
    }

    /// <summary>The paper's model: D_x = 784, N = 200, H = 200, two hidden layers.</summary>
    public static GaussianVae Paper(ScalarType dtype = ScalarType.Float32) => new(784, 200, 200, 2, dtype);

    /// <summary>The tanh MLP input → H (× <paramref name="layers"/>) → output.</summary>
    private static Sequential Mlp(int input, int hidden, int layers, int output, ScalarType dtype)
    {
        var modules = TanhLayers(input, hidden, layers, dtype);
        modules.Add(("output", nn.Linear(layers > 0 ? hidden : input, output, dtype: dtype)));
        return nn.Sequential(modules);
    }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> GenerativeParameters() => decoder.parameters().ToArray();

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> InferenceParameters() => encoder.parameters().ToArray();

    /// <summary>
    /// q's parameters for each data point: (mean [B, N], log-std [B, N]), read from the encoder's 2N outputs as
    /// interleaved pairs (output 2d = mean_d, output 2d + 1 = log-std_d).
    /// </summary>
    public override (Tensor Mean, Tensor LogStd) Posterior(Tensor x)
    {
        var flat = x.flatten(1).to(ParameterType);                                            // [B, D_x]
        var pairs = encoder.forward(flat).view(flat.shape[0], LatentSize, 2);               // [B, N, 2]
        return (pairs.select(-1, 0), pairs.select(-1, 1));
    }

    /// <inheritdoc />
    public override Tensor DecoderLogits(Tensor z) => decoder.forward(z);                   // [..., N] → [..., D_x]
}
