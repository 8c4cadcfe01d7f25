using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// <c>vae-tvo</c>: the TVO-style Gaussian VAE of the paper's budget analysis (docs/experiments.md §2.5), N = 200
/// Gaussian latents, tanh encoder and decoder with two hidden layers of H = 200 (<c>--layers N,H</c>), separate linear
/// heads for q's mean and log-std, a fixed N(0, I) prior, no input centring and no data-dependent initialisation.
/// </summary>
public sealed class TvoGaussianVaeEntry : VaeModelEntry
{
    /// <inheritdoc />
    public override string Name => "vae-tvo";

    /// <inheritdoc />
    public override string Description => "TVO-style Gaussian VAE of the budget analysis (--layers N,H, default 200,200; two-head encoder; reparameterisable)";

    /// <inheritdoc />
    protected override LatentVariableModel Create(int pixels, int latents, int hidden, ScalarType dtype) => new TvoGaussianVae(pixels, latents, hidden, dtype: dtype);
}
