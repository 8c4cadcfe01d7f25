using Ovis.Bounds;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// <c>dreg</c>, IWAE-DReG (Tucker et al. 2019; docs/estimators.md §4.10), with one forward and one
/// backward pass. log q is evaluated with q's parameters detached at the reparameterised z (as
/// <see cref="StickingTheLanding"/>), a_k = (1−α) log w_k and ṽ_k = sg(softmax_k a_k). The gradients are those of the
/// reference's hook version: θ receives Σ_k ṽ_k ∇_θ a_k and φ receives Σ_k ṽ_k² ∂_z a_k · ∂z_k/∂φ. Unbiased for ∇L_K
/// at α = 0; at α ≠ 0 both gradients carry extra (1−α) factors, as in the reference, so no claim is made there.
/// <para>
/// When the estimator draws the particles itself (<see cref="GradientEstimator.Compute"/>, the trainer's path) it
/// places a <see cref="DeferredPathGradientScale"/> between the model's Sample and Evaluate, and the surrogate is
/// <code>−Σ_k ṽ_k a_k</code> with the node's factor set to ṽ: the path through z is scaled by ṽ once more in the
/// same backward pass that gives θ its gradient. For particles drawn by another forward (the row-wise gradient
/// analysis) the node is absent, and the φ correction is formed with g_k = ∂(Σ_l ṽ_l a_l)/∂z_k = ṽ_k ∂a_k/∂z_k
/// (one extra <c>autograd.grad</c> through the decoder, graph retained):
/// <code>−Σ_k ṽ_k a_k − Σ_k sg((ṽ_k − 1)·g_k)·z_k</code>
/// Both give the same gradients to rounding (tested).
/// </para>
/// <para>
/// The construction is exact for a <b>single</b> stochastic layer. With several reparameterised layers z_2 depends
/// on z_1, ∂/∂z_1 already contains the path through z_2, and the correction would count it twice; such models are
/// refused with <see cref="NotSupportedException"/>. The loss <i>value</i> is not the bound (see the diagnostics).
/// The Gaussian toy keeps its fixed q scale 2/3 (the reference's scale bug is not reproduced, §4.10).
/// </para>
/// </summary>
public sealed class DoublyReparameterized : PathwiseEstimator
{
    /// <summary>Create the estimator.</summary>
    public DoublyReparameterized() : base("dreg") { }

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.Pathwise,
        "IWAE-DReG: φ gets Σ v_k² ∂_z log w_k ∂z_k/∂φ (one forward and one backward pass, single latent layer)", "O(M·K)");

    /// <inheritdoc />
    public override GradientClaim? Claim(double alpha) => alpha == 0
        ? GradientClaim.Unbiased("the doubly reparameterised identity E[Σ v_k h_k] = E[Σ v_k² ∂_z log w_k ∂z_k/∂φ] at α = 0")
        : null;

    /// <inheritdoc />
    protected override SamplingOptions Sampling(SamplingOptions baseOptions) => baseOptions with { DetachPosteriorParameters = true };

    /// <inheritdoc />
    /// <remarks>DReG differentiates the weighted bound through the latents z themselves, which a chunked step does not keep.</remarks>
    public override bool SupportsParticleChunks => false;

    /// <inheritdoc />
    /// <remarks>The model's Sample, then the deferred path scale on z [B, P, D], then the model's Evaluate at it.</remarks>
    protected override ParticleLogDensities Draw(EstimatorContext context, int particles, SamplingOptions options)
    {
        var model = context.Model;
        if (model.LatentLayers != 1) return base.Draw(context, particles, options);            // refused by Surrogate
        var latents = model.Sample(context.Data, particles, options);
        var pathScale = new DeferredPathGradientScale();
        var scaledLatents = pathScale.Apply(latents[0]);                                       // z [B, P, D]
        var densities = model.Evaluate(context.Data, new[] { scaledLatents }, options.DetachPosteriorParameters);
        // A model that evaluates a transformed copy of z gets the correction path (the node stays the identity).
        if (densities.Latents.Count == 1 && ReferenceEquals(densities.Latents[0], scaledLatents))
            densities.LatentPathScale = pathScale;
        return densities;
    }

    /// <inheritdoc />
    public override EstimatorResult Surrogate(ParticleLogDensities densities, EstimatorContext context)
    {
        var settings = context.Settings;
        CheckParticleCount(densities, settings);
        if (densities.Latents.Count == 0)
            throw new NotSupportedException("estimator 'dreg' needs the particles' latents z, which a chunked step does not keep: use pathwise-iwae with particle chunks, or no chunking");
        RequirePathGradient(densities);
        if (densities.Latents.Count != 1)
            throw new NotSupportedException(
                $"estimator 'dreg' is exact only for a single stochastic layer; this model has {densities.Latents.Count}: use pathwise-iwae");
        long batch = densities.BatchSize, particleRows = densities.Particles;
        int outer = settings.OuterSamples, particles = settings.Particles;
        var shape = new long[] { batch, outer, particles };
        var z = densities.Latents[0];                                                                          // [B, M·K, D]
        var scaled = ScaledLogWeights(densities, settings, detachPosterior: false, shape); // a [B, M, K]
        var weights = NormalizedWeights.FromScaledLogWeights(scaled.detach());                               // ṽ [B, M, K]
        var weighted = (weights * scaled).sum();                                                               // Σ_{b,m,k} ṽ a
        // In z's dtype: a model may draw z in a lower precision than its log-weights (the Gaussian toy's row-wise path),
        // and the [B, M·K, D] gradient should stay in it.
        var rowWeights = weights.view(batch, particleRows).unsqueeze(-1).to(z.dtype);                          // [B, M·K, 1]
        Tensor loss;
        if (densities.LatentPathScale is { } pathScale)
        {
            pathScale.Set(rowWeights);
            loss = -weighted / (batch * outer);
        }
        else
        {
            var pathGradient = torch.autograd.grad(new[] { weighted }, new[] { z }, retain_graph: true)[0].detach(); // g [B, M·K, D]
            var correction = (((rowWeights - 1) * pathGradient).detach() * z).sum();
            loss = -(weighted + correction) / (batch * outer);
        }
        var bound = ImportanceWeightedBound.FromScaledLogWeights(scaled.detach(), settings.Alpha);            // [B, M]
        return new EstimatorResult(loss, BaseDiagnostics(context, scaled, bound, densities.LogLikelihood.view(shape)));
    }
}
