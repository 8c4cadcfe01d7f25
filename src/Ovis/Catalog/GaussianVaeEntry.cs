using Ovis.Data;
using Ovis.Models;
using Ovis.Training;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// <c>vae</c>: the paper's Gaussian VAE (docs/experiments.md §2.4), N = 200 Gaussian latents and two tanh hidden
/// layers of H = 200 (<c>--layers N,H</c>), Bernoulli pixels.
/// </summary>
public sealed class GaussianVaeEntry : ImageModelEntry
{
    /// <inheritdoc />
    public override string Name => "vae";

    /// <inheritdoc />
    public override string Description => "Gaussian VAE of paper Fig. 4 (--layers N,H, default 200,200; reparameterisable)";

    /// <inheritdoc />
    public override bool CanReparameterize => true;

    /// <inheritdoc />
    protected override void ValidateLayers(IReadOnlyList<int> layers)
    {
        if (layers.Count is not (0 or 2))
            throw new ArgumentException($"--layers for the vae is 'N,H' (latents, hidden units per layer), got {layers.Count} number{(layers.Count == 1 ? "" : "s")}");
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

    private static GaussianVae Create(int pixels, IReadOnlyList<int> layers, ScalarType dtype)
        => layers.Count == 0 ? new GaussianVae(pixels, dtype: dtype) : new GaussianVae(pixels, layers[0], layers[1], dtype: dtype);
}
