using Ovis.Data;
using Ovis.Models;
using Ovis.Training;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// A Gaussian VAE of binary images read as <c>--layers N,H</c> (N latents, H hidden units in each of its tanh layers,
/// default 200,200), reparameterisable: what the paper's VAE and the TVO-style VAE share.
/// </summary>
public abstract class VaeModelEntry : ImageModelEntry
{
    /// <inheritdoc />
    public override bool CanReparameterize => true;

    /// <summary>Build the VAE for <paramref name="pixels"/> pixels with N = <paramref name="latents"/> and H = <paramref name="hidden"/>.</summary>
    protected abstract LatentVariableModel Create(int pixels, int latents, int hidden, ScalarType dtype);

    /// <inheritdoc />
    protected override void ValidateLayers(IReadOnlyList<int> layers)
    {
        if (layers.Count is not (0 or 2))
            throw new ArgumentException($"--layers for the {Name} is 'N,H' (latents, hidden units per layer), got {layers.Count} number{(layers.Count == 1 ? "" : "s")}");
    }

    /// <inheritdoc />
    protected override LatentVariableModel Build(TrainingConfiguration configuration, Dataset dataset, int pixels)
        => Create(pixels, Sizes(configuration.Layers).latents, Sizes(configuration.Layers).hidden, ScalarType.Float32);

    /// <inheritdoc />
    protected override LatentVariableModel BuildForBenchmark(ScalarType dtype, IReadOnlyList<int> layers)
        => Create(Pixels, Sizes(layers).latents, Sizes(layers).hidden, dtype);

    /// <inheritdoc />
    /// <remarks>z, ε and q's parameters (3N), the decoder's two hidden layers (2H) and the pixels' logits, with gradients.</remarks>
    protected override double BytesPerParticle(TrainingConfiguration configuration)
    {
        var (latents, hidden) = Sizes(configuration.Layers);
        return (3.0 * latents + 2.0 * hidden + Pixels) * 4 * 6;
    }

    /// <inheritdoc />
    protected override double ParameterBytes(TrainingConfiguration configuration)
    {
        var (latents, hidden) = Sizes(configuration.Layers);
        return (2.0 * ((double)Pixels * hidden + (double)hidden * hidden) + 3.0 * hidden * latents) * 4 * 4;
    }

    private static (int latents, int hidden) Sizes(IReadOnlyList<int> layers) => layers.Count == 2 ? (layers[0], layers[1]) : (200, 200);
}
