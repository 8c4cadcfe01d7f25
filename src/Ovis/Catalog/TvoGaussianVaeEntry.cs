using Ovis.Data;
using Ovis.Models;
using Ovis.Training;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// <c>vae-tvo</c>: the TVO-style Gaussian VAE of the paper's budget analysis (docs/experiments.md §2.5), N = 200
/// Gaussian latents, tanh encoder and decoder with two hidden layers of H = 200 (<c>--layers N,H</c>), separate linear
/// heads for q's mean and log-std, a fixed N(0, I) prior, no input centring and no data-dependent initialisation.
/// </summary>
public sealed class TvoGaussianVaeEntry : ImageModelEntry
{
    /// <inheritdoc />
    public override string Name => "vae-tvo";

    /// <inheritdoc />
    public override string Description => "TVO-style Gaussian VAE of the budget analysis (--layers N,H, default 200,200; two-head encoder; reparameterisable)";

    /// <inheritdoc />
    public override bool CanReparameterize => true;

    /// <inheritdoc />
    protected override void ValidateLayers(IReadOnlyList<int> layers)
    {
        if (layers.Count is not (0 or 2))
            throw new ArgumentException($"--layers for the vae-tvo is 'N,H' (latents, hidden units per layer), got {layers.Count} number{(layers.Count == 1 ? "" : "s")}");
    }

    /// <inheritdoc />
    protected override LatentVariableModel Build(TrainingConfiguration configuration, Dataset dataset, int pixels)
        => Create(pixels, configuration.Layers, ScalarType.Float32);

    /// <inheritdoc />
    protected override LatentVariableModel BuildForBenchmark(ScalarType dtype, IReadOnlyList<int> layers) => Create(Pixels, layers, dtype);

    /// <inheritdoc />
    public override double EstimateStepBytes(TrainingConfiguration configuration)
    {
        // per particle row: z, ε and the decoder's activations (two hidden layers, the pixels' logits), with gradients;
        // per weight: the value, its gradient and Adam's two moments
        var (latents, hidden) = configuration.Layers.Length == 2 ? (configuration.Layers[0], configuration.Layers[1]) : (200, 200);
        double weights = 2.0 * ((double)Pixels * hidden + (double)hidden * hidden) + (double)hidden * latents * 3;
        return (double)configuration.BatchSize * configuration.OuterSamples * configuration.Particles * (3.0 * latents + 2.0 * hidden + Pixels) * 4 * 6 + weights * 4 * 4;
    }

    private static TvoGaussianVae Create(int pixels, IReadOnlyList<int> layers, ScalarType dtype)
        => layers.Count == 0 ? new TvoGaussianVae(pixels, dtype: dtype) : new TvoGaussianVae(pixels, layers[0], layers[1], dtype: dtype);
}
