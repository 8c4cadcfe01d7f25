using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// An estimator's gradient with the particles processed C at a time, so that memory grows with B·C rather than B·K
/// (issue: training at any K). Every estimator whose surrogate depends on the particles only through their
/// per-particle log-densities S = (log p(x|z), log p(z_l), log q(z_l|x)) has the gradient Σ_particles (∂loss/∂S)·∇S.
/// Pass 1 draws the particles chunk by chunk without a graph, keeping only S ([B, P, 1 + 2L] numbers) and the
/// generator's state at each chunk's start; the estimator's own surrogate, built on S as leaves, gives ∂loss/∂S (its
/// stop-gradients, control variates and diagnostics exactly as unchunked) and reaches directly any parameters it uses
/// besides S (a learned baseline, the sleep phase's model). Pass 2 redraws each chunk from its saved state, evaluates
/// S with a graph (with the path through z for the pathwise estimators) and back-propagates Σ sg(∂loss/∂S)·S. With a
/// model that draws its particles particle-major (<see cref="LatentVariableModel.SupportsParticleChunks"/>) the
/// particles, the loss, the diagnostics and the generator's final state are those of the unchunked step, and the
/// gradient equals it to float rounding.
/// </summary>
public static class ChunkedGradient
{
    /// <summary>
    /// Compute the estimator's result on <paramref name="context"/> and back-propagate its loss into the parameters'
    /// gradients (which accumulate: zero them first), with the particles in chunks of <paramref name="particleChunk"/>;
    /// 0, or a chunk of at least all the particles, is the ordinary unchunked <c>Compute</c> then <c>backward</c>.
    /// </summary>
    public static EstimatorResult Backward(GradientEstimator estimator, EstimatorContext context, int particleChunk)
    {
        var (particles, options) = estimator.PrepareDraw(context);
        if (particleChunk <= 0 || particleChunk >= particles)
        {
            var whole = estimator.Compute(context);
            whole.Loss.backward();
            return whole;
        }
        Check(estimator, context);
        var generator = context.Generator!;
        var model = context.Model;

        // Pass 1: the particles' log-densities, chunk by chunk, without a graph.
        var states = new List<Tensor>();
        var likelihood = new List<Tensor>();
        var prior = new List<Tensor>();
        var posterior = new List<Tensor>();
        using (no_grad())
            for (int start = 0; start < particles; start += particleChunk)
            {
                states.Add(generator.get_state());
                var densities = model.Forward(context.Data, Math.Min(particleChunk, particles - start), options);
                likelihood.Add(densities.LogLikelihood);                                          // [B, C]
                prior.Add(densities.LogPrior);                                                    // [B, C, L]
                posterior.Add(densities.LogPosterior);                                            // [B, C, L]
            }
        var logLikelihood = cat(likelihood.ToArray(), 1).requires_grad_();                       // [B, P]
        var logPrior = cat(prior.ToArray(), 1).requires_grad_();                                  // [B, P, L]
        var logPosterior = cat(posterior.ToArray(), 1).requires_grad_();                          // [B, P, L]
        var result = estimator.Surrogate(new ParticleLogDensities(logLikelihood, logPrior, logPosterior), context);
        using var end = generator.get_state();
        result.Loss.backward();                                  // ∂loss/∂S, and the parameters the surrogate reaches itself
        var (gradientLikelihood, gradientPrior, gradientPosterior) = (Gradient(logLikelihood), Gradient(logPrior), Gradient(logPosterior));

        // Pass 2: each chunk again, with a graph, weighted by ∂loss/∂S.
        for (int chunk = 0, start = 0; start < particles; chunk++, start += particleChunk)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(particleChunk, particles - start);
            generator.set_state(states[chunk]);
            var densities = model.Forward(context.Data, count, options);
            var partial = (gradientLikelihood.narrow(1, start, count) * densities.LogLikelihood).sum()
                          + (gradientPrior.narrow(1, start, count) * densities.LogPrior).sum()
                          + (gradientPosterior.narrow(1, start, count) * densities.LogPosterior).sum();
            partial.backward();
        }
        generator.set_state(end);
        foreach (var state in states) state.Dispose();
        return result;
    }

    /// <summary>Refuse a combination the chunked step cannot reproduce exactly, with what to do instead.</summary>
    public static void Check(GradientEstimator estimator, EstimatorContext context)
    {
        if (!estimator.SupportsParticleChunks)
            throw new NotSupportedException($"estimator '{estimator.Id}' cannot be computed in particle chunks (it differentiates through the latents themselves); train it without --particle-chunk, or use pathwise-iwae");
        if (!context.Model.SupportsParticleChunks)
            throw new NotSupportedException($"model '{context.Model.GetName()}' does not draw its particles particle-major (LatentVariableModel.SupportsParticleChunks), so chunks would not reproduce its particles; train it without --particle-chunk");
        if (context.Generator is null)
            throw new ArgumentException("particle chunking needs the run's generator in the estimator context, to redraw each chunk");
    }

    private static Tensor Gradient(Tensor leaf) => leaf.grad is { } gradient ? gradient.detach() : zeros_like(leaf);
}
