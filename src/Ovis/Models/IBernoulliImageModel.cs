using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// A model of binary images whose likelihood p(x|z) is Bernoulli (the SBN and the Gaussian VAE of docs/experiments.md
/// §2.3–2.4): draws from the prior p(z) and the pixel probabilities E[x | z], which the figures of prior samples and
/// reconstructions show.
/// </summary>
public interface IBernoulliImageModel
{
    /// <summary>z ~ p(z) without gradient: one tensor [N, D_l] per stochastic layer, in the model's layer order.</summary>
    IReadOnlyList<Tensor> SampleLatentPrior(int count, Generator? generator = null);

    /// <summary>
    /// E[x | z] = sigmoid(logits of p(x|z)) for latents with any leading shape, one tensor [..., D_l] per layer,
    /// giving [..., D_x], without gradient.
    /// </summary>
    Tensor ObservationProbabilities(IReadOnlyList<Tensor> latents);
}
