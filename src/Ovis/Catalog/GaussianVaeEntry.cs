using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// <c>vae</c>: the paper's Gaussian VAE (docs/experiments.md §2.4), N = 200 Gaussian latents and two tanh hidden
/// layers of H = 200 (<c>--layers N,H</c>), q's mean and log-std from one interleaved head, Bernoulli pixels.
/// </summary>
public sealed class GaussianVaeEntry : VaeModelEntry
{
    /// <inheritdoc />
    public override string Name => "vae";

    /// <inheritdoc />
    public override string Description => "Gaussian VAE of paper Fig. 4 (--layers N,H, default 200,200; reparameterisable)";

    /// <inheritdoc />
    protected override LatentVariableModel Create(int pixels, int latents, int hidden, ScalarType dtype) => new GaussianVae(pixels, latents, hidden, dtype: dtype);
}
