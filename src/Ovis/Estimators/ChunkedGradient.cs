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

        // Pass 1: the particles' log-densities, chunk by chunk, without a graph, into buffers allocated at the first chunk
        // (a small tensor kept per chunk would sit between the chunks' large freed blocks and fragment the heap), and
        // the generator's state at each chunk's start in managed memory for the same reason.
        var states = new List<byte[]>();
        Tensor? logLikelihood = null, logPrior = null, logPosterior = null;                      // [B, P], [B, P, L], [B, P, L]
        using (no_grad())
            for (int start = 0; start < particles; start += particleChunk)
            {
                int count = Math.Min(particleChunk, particles - start);
                using (NewDisposeScope())                                // a chunk's particles are released before the next
                {
                    using (var state = generator.get_state()) states.Add(state.data<byte>().ToArray());
                    var densities = model.Forward(context.Data, count, options);
                    if (logLikelihood is null)
                    {
                        logLikelihood = empty(new long[] { densities.BatchSize, particles }, dtype: densities.LogLikelihood.dtype, device: densities.LogLikelihood.device).DetachFromDisposeScope();
                        logPrior = empty(new long[] { densities.BatchSize, particles, densities.LogPrior.shape[2] }, dtype: densities.LogPrior.dtype, device: densities.LogPrior.device).DetachFromDisposeScope();
                        logPosterior = empty_like(logPrior).DetachFromDisposeScope();
                    }
                    logLikelihood.narrow(1, start, count).copy_(densities.LogLikelihood);
                    logPrior!.narrow(1, start, count).copy_(densities.LogPrior);
                    logPosterior!.narrow(1, start, count).copy_(densities.LogPosterior);
                }
                Runtime.ImplicitScalars.Release();          // or they pin the heap between chunks
            }
        logLikelihood!.requires_grad_();
        logPrior!.requires_grad_();
        logPosterior!.requires_grad_();
        var result = estimator.Surrogate(new ParticleLogDensities(logLikelihood, logPrior, logPosterior), context);
        using var end = generator.get_state();
        result.Loss.backward();                                  // ∂loss/∂S, and the parameters the surrogate reaches itself
        var (gradientLikelihood, gradientPrior, gradientPosterior) = (Gradient(logLikelihood), Gradient(logPrior), Gradient(logPosterior));

        // Pass 2: each chunk again, with a graph, weighted by ∂loss/∂S.
        for (int chunk = 0, start = 0; start < particles; chunk++, start += particleChunk)
        {
            int count = Math.Min(particleChunk, particles - start);
            using (NewDisposeScope())
            {
                using (var state = tensor(states[chunk])) generator.set_state(state);
                var densities = model.Forward(context.Data, count, options);
                var partial = (gradientLikelihood.narrow(1, start, count) * densities.LogLikelihood).sum()
                              + (gradientPrior.narrow(1, start, count) * densities.LogPrior).sum()
                              + (gradientPosterior.narrow(1, start, count) * densities.LogPosterior).sum();
                partial.backward();
            }
            Runtime.ImplicitScalars.Release();          // or they pin the heap between chunks
        }
        generator.set_state(end);
        logLikelihood.Dispose();
        logPrior.Dispose();
        logPosterior.Dispose();
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
