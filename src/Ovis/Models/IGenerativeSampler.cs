using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// A model that can draw (x, z) pairs from its generative model p_θ(z) p_θ(x|z) by ancestral sampling: what the
/// sleep phase of reweighted wake-sleep needs (docs/estimators.md §4.6). Optional: models without it cannot run
/// <c>wake-sleep</c>.
/// </summary>
public interface IGenerativeSampler
{
    /// <summary>
    /// Draw <paramref name="count"/> pairs z ~ p(z), x ~ p(x|z) without gradient.
    /// </summary>
    /// <param name="count">N, the number of pairs.</param>
    /// <param name="generator">the random generator (null: the global one).</param>
    /// <returns>x [N, D_x] and one latent tensor [N, D_l] per layer, in the model's layer order.</returns>
    (Tensor x, IReadOnlyList<Tensor> latents) SamplePrior(int count, Generator? generator = null);
}
