using Ovis.Bounds;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// <c>dreg</c>, IWAE-DReG (Tucker et al. 2019; docs/estimators.md §4.10), hook-free and with one forward pass.
/// log q is evaluated with q's parameters detached at the reparameterised z (as <see cref="StickingTheLanding"/>),
/// a_k = (1−α) log w_k and ṽ_k = sg(softmax_k a_k). With g_k = ∂(Σ_l ṽ_l a_l)/∂z_k = ṽ_k ∂a_k/∂z_k (one
/// <c>autograd.grad</c> with the graph retained) the surrogate is, per (b, m),
/// <code>−Σ_k ṽ_k a_k − Σ_k sg((ṽ_k − 1)·g_k)·z_k</code>
/// so that θ receives Σ_k ṽ_k ∇_θ a_k (z does not depend on θ) and φ receives
/// Σ_k ṽ_k g_k ∂z_k/∂φ = Σ_k ṽ_k² ∂_z a_k · ∂z_k/∂φ — exactly the gradients of the reference's hook version
/// (θ: Σ v_k ∇_θ log w_k; φ: Σ v_k² ∂_z log w_k · ∂z_k/∂φ). Unbiased for ∇L_K at α = 0; at α ≠ 0 both gradients
/// carry extra (1−α) factors, as in the reference, so no claim is made there.
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
        "IWAE-DReG: φ gets Σ v_k² ∂_z log w_k ∂z_k/∂φ (hook-free, one forward pass, single latent layer)", "O(M·K)");

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
        var pathGradient = torch.autograd.grad(new[] { weighted }, new[] { z }, retain_graph: true)[0].detach(); // g [B, M·K, D]
        // In z's dtype: a model may draw z in a lower precision than its log-weights (the Gaussian toy's row-wise path),
        // and the [B, M·K, D] correction should stay in it.
        var rowWeights = weights.view(batch, particleRows).unsqueeze(-1).to(z.dtype);                          // [B, M·K, 1]
        var correction = (((rowWeights - 1) * pathGradient).detach() * z).sum();
        var loss = -(weighted + correction) / (batch * outer);
        var bound = ImportanceWeightedBound.FromScaledLogWeights(scaled.detach(), settings.Alpha);            // [B, M]
        return new EstimatorResult(loss, BaseDiagnostics(context, scaled, bound, densities.LogLikelihood.view(shape)));
    }
}
