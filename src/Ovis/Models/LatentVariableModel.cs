using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>How a model draws its particles.</summary>
/// <param name="Reparameterize">draw z by a differentiable path (pathwise estimators); false draws z without
/// gradient (score-function estimators).</param>
/// <param name="DetachPosteriorParameters">evaluate log q(z|x) with q's parameters detached, at a z that keeps its
/// path gradient (STL and DReG, docs/estimators.md §4.9–4.10).</param>
/// <param name="Generator">the random generator to draw from; null uses the global one.</param>
public sealed record SamplingOptions(bool Reparameterize = false, bool DetachPosteriorParameters = false, Generator? Generator = null);

/// <summary>
/// The model contract of Ovis (docs/design.md): a latent-variable model p_θ(x, z) with an amortised posterior
/// q_φ(z|x), both organised in L stochastic layers. A model returns, for every particle, log p(x|z), per-layer
/// log p(z_l) and log q(z_l|x) and the samples; it never knows the estimator. Users bring their own model by
/// deriving from this class and implementing <see cref="Sample"/> and <see cref="Evaluate"/>.
/// </summary>
public abstract class LatentVariableModel : nn.Module
{
    /// <summary>Create a model module with the given name.</summary>
    protected LatentVariableModel(string name) : base(name) { }

    /// <summary>Number of stochastic layers L.</summary>
    public abstract int LatentLayers { get; }

    /// <summary>True when z can be drawn by a differentiable path (required by the pathwise estimators).</summary>
    public abstract bool CanReparameterize { get; }

    /// <summary>
    /// True when the model draws its particles from <see cref="ParticleNoise"/> (particle-major), so that drawing P
    /// particles in chunks of C, each chunk from the generator state at which the previous one ended, gives exactly the
    /// particles of one P-particle draw: what the trainer's particle chunking (<see cref="Training.TrainerSettings.ParticleChunk"/>)
    /// needs to reproduce an unchunked step. False by default.
    /// </summary>
    public virtual bool SupportsParticleChunks => false;

    /// <summary>The generative parameters θ (prior and likelihood).</summary>
    public abstract IReadOnlyList<Parameter> GenerativeParameters();

    /// <summary>The inference parameters φ (the amortised posterior q).</summary>
    public abstract IReadOnlyList<Parameter> InferenceParameters();

    /// <summary>Draw <paramref name="particles"/> i.i.d. samples z ~ q(z|x) per data point.</summary>
    /// <param name="x">data, [B, ...].</param>
    /// <param name="particles">P, the number of particles per data point.</param>
    /// <param name="options">reparameterisation and random generator.</param>
    /// <returns>one tensor [B, P, D_l] per layer; without reparameterisation the samples carry no gradient.</returns>
    public abstract IReadOnlyList<Tensor> Sample(Tensor x, int particles, SamplingOptions options);

    /// <summary>
    /// Evaluate log p(x|z), log p(z_l) and log q(z_l|x) at given latents, one tensor [B, P, D_l] per layer.
    /// This is what the exact enumeration oracle calls with every latent configuration.
    /// </summary>
    public abstract ParticleLogDensities Evaluate(Tensor x, IReadOnlyList<Tensor> latents, bool detachPosteriorParameters = false);

    /// <summary>
    /// Draw P particles per data point and return their log-densities (the flow of docs/design.md). The default
    /// composes <see cref="Sample"/> and <see cref="Evaluate"/>; a model may override it to share work.
    /// </summary>
    public virtual ParticleLogDensities Forward(Tensor x, int particles, SamplingOptions options)
    {
        if (options.Reparameterize && !CanReparameterize)
            throw new NotSupportedException($"model '{GetName()}' has discrete latents and cannot reparameterise its samples");
        var latents = Sample(x, particles, options);
        return Evaluate(x, latents, options.DetachPosteriorParameters);
    }

    /// <summary>θ followed by φ, in a fixed order (the layout of flattened gradient vectors).</summary>
    public IReadOnlyList<Parameter> AllParameters() => GenerativeParameters().Concat(InferenceParameters()).ToArray();

    /// <summary>Names of the parameters in <see cref="AllParameters"/>' order, for reports.</summary>
    public IReadOnlyList<string> ParameterNames()
    {
        var byHandle = named_parameters().ToDictionary(p => p.parameter.Handle, p => p.name);
        return AllParameters().Select(p => byHandle.TryGetValue(p.Handle, out var n) ? n : "?").ToArray();
    }
}

/// <summary>A model whose latents take finitely many values, so expectations over q can be enumerated exactly.</summary>
public interface IEnumerableLatents
{
    /// <summary>
    /// Every joint configuration of the latents, one tensor [C, D_l] per layer, row c of every layer together
    /// forming configuration c.
    /// </summary>
    IReadOnlyList<Tensor> EnumerateConfigurations();
}
