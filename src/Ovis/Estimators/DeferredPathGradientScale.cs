using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// The identity on reparameterised latents z whose backward pass multiplies ∂/∂z by a per-particle factor that is
/// known only after the forward pass. DReG needs exactly this (docs/estimators.md §4.10): φ must receive
/// Σ_k ṽ_k² ∂_z a_k ∂z_k/∂φ while θ receives Σ_k ṽ_k ∇_θ a_k, and ṽ = softmax(a) is computed from the log-weights
/// a that z itself produces. Placing this node between the draw and the model's evaluation, then calling
/// <see cref="Set"/> with ṽ, lets one backward pass of Σ_k ṽ_k a_k give both gradients: the path through z is
/// multiplied by ṽ once more, the path through θ is not.
/// <para>
/// Until <see cref="Set"/> is called the backward pass is the identity, so a graph through this node is never
/// silently wrong: it is the graph without the node.
/// </para>
/// </summary>
internal sealed class DeferredPathGradientScale
{
    private Tensor? factor;

    /// <summary>z itself, [B, P, D], recorded so that the gradient reaching it is scaled on the way back.</summary>
    public Tensor Apply(Tensor latents) => ScaleFunction.apply(latents, this);

    /// <summary>Fix the factor, [B, P, 1] (broadcast over D) in z's dtype, before the backward pass runs.</summary>
    public void Set(Tensor perParticleFactor) => factor = perParticleFactor.detach();

    /// <summary>∂/∂z times the factor (or unchanged before <see cref="Set"/>), [B, P, D].</summary>
    private Tensor Scale(Tensor gradient) => factor is null ? gradient : gradient * factor;

    /// <summary>The autograd node: forward copies z, backward calls <see cref="Scale"/> on the incoming gradient.</summary>
    private sealed class ScaleFunction : autograd.SingleTensorFunction<ScaleFunction>
    {
        private const string Owner = "owner";

        public override string Name => nameof(DeferredPathGradientScale);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            ctx.save_data(Owner, vars[1]);
            return ((Tensor)vars[0]).clone();                                              // [B, P, D]
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
            => new() { ((DeferredPathGradientScale)ctx.get_data(Owner)).Scale(gradOutput), null! };
    }
}
