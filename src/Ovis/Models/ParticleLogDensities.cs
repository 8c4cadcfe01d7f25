using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// What a model returns for P particles per data point (docs/design.md, docs/estimators.md §1): per particle row,
/// log p(x|z), per-layer log p(z_l) and log q(z_l|x), and the latent samples. Particle rows are ordered with the
/// importance index fastest, so a view as [B, M, K] recovers the (b, m, k) layout.
/// </summary>
public sealed class ParticleLogDensities
{
    /// <summary>Create the record, checking that the shapes agree.</summary>
    /// <param name="logLikelihood">log p(x|z), [B, P].</param>
    /// <param name="logPrior">log p(z_l) (conditional prior of layer l), [B, P, L].</param>
    /// <param name="logPosterior">log q(z_l|x, …), [B, P, L].</param>
    /// <param name="latents">the samples z_l, one tensor [B, P, D_l] per layer (may be empty for analysis inputs).</param>
    public ParticleLogDensities(Tensor logLikelihood, Tensor logPrior, Tensor logPosterior, IReadOnlyList<Tensor>? latents = null)
    {
        if (logLikelihood.dim() != 2)
            throw new ArgumentException($"log p(x|z) must be [B, P], got [{string.Join(", ", logLikelihood.shape)}]");
        if (logPrior.dim() != 3 || logPosterior.dim() != 3
            || logPrior.shape[0] != logLikelihood.shape[0] || logPrior.shape[1] != logLikelihood.shape[1]
            || !logPrior.shape.SequenceEqual(logPosterior.shape))
            throw new ArgumentException(
                $"log p(z) and log q(z|x) must both be [B, P, L] with [B, P] = [{string.Join(", ", logLikelihood.shape)}], " +
                $"got [{string.Join(", ", logPrior.shape)}] and [{string.Join(", ", logPosterior.shape)}]");
        LogLikelihood = logLikelihood;
        LogPrior = logPrior;
        LogPosterior = logPosterior;
        Latents = latents ?? Array.Empty<Tensor>();
    }

    /// <summary>log p(x|z), [B, P].</summary>
    public Tensor LogLikelihood { get; }

    /// <summary>log p(z_l) per layer, [B, P, L].</summary>
    public Tensor LogPrior { get; }

    /// <summary>log q(z_l|x) per layer, [B, P, L].</summary>
    public Tensor LogPosterior { get; }

    /// <summary>The latent samples, one [B, P, D_l] tensor per layer.</summary>
    public IReadOnlyList<Tensor> Latents { get; }

    /// <summary>
    /// Set by DReG when <see cref="Latents"/>[0] passed through its <see cref="Estimators.DeferredPathGradientScale"/>
    /// before the model evaluated it; null otherwise.
    /// </summary>
    internal Estimators.DeferredPathGradientScale? LatentPathScale { get; set; }

    /// <summary>Number of data points B.</summary>
    public long BatchSize => LogLikelihood.shape[0];

    /// <summary>Number of particles per data point P (= M·K).</summary>
    public long Particles => LogLikelihood.shape[1];

    /// <summary>
    /// log w = log p(x|z) − β_KL · Σ_l [log q(z_l|x) − log p(z_l)], [B, P] (docs/estimators.md §1).
    /// </summary>
    /// <param name="detachPosterior">detach log q (the score-function family trains θ only through log w).</param>
    /// <param name="klWeight">β_KL, 1 for the true bound.</param>
    public Tensor LogWeights(bool detachPosterior, double klWeight = 1)
    {
        var logq = detachPosterior ? LogPosterior.detach() : LogPosterior;
        var kl = (logq - LogPrior).sum(-1);
        return klWeight == 1 ? LogLikelihood - kl : LogLikelihood - klWeight * kl;
    }

    /// <summary>Σ_l log q(z_l|x), [B, P]: the log-density whose score h_k = ∇_φ log q(z_k|x) the estimators use.</summary>
    public Tensor TotalLogPosterior() => LogPosterior.sum(-1);

    /// <summary>log p(x, z) = log p(x|z) + Σ_l log p(z_l), [B, P].</summary>
    public Tensor LogJoint() => LogLikelihood + LogPrior.sum(-1);

    /// <summary>Keep the particle rows [start, start + count) along the particle axis.</summary>
    public ParticleLogDensities NarrowParticles(long start, long count)
        => new(LogLikelihood.narrow(1, start, count), LogPrior.narrow(1, start, count), LogPosterior.narrow(1, start, count),
               Latents.Select(z => z.narrow(1, start, count)).ToArray());
}
