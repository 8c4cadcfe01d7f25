using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// The particles of a row-wise forward pass and the per-row leaves the parameters were replaced by.
/// </summary>
/// <param name="Densities">the particles' log-densities, exactly as <see cref="LatentVariableModel.Forward"/> returns them.</param>
/// <param name="Leaves">per-row copies of (functions of) the parameters, each [B, ...], leaves that require grad:
/// the gradient of a sum of per-row losses w.r.t. a leaf holds, in row b, row b's own gradient.</param>
public sealed record RowwiseForward(ParticleLogDensities Densities, IReadOnlyList<Tensor> Leaves);

/// <summary>
/// A model that can evaluate itself with per-data-row copies of its parameters, so that the gradient of a sum of
/// per-row losses w.r.t. those copies gives every row's own parameter gradient in ONE autograd call. The gradient
/// analysis (docs/estimators.md §7, docs/experiments.md §2.1) uses this to put many independent gradient draws in the batch
/// dimension instead of looping over backward passes. Valid for every estimator whose loss is a mean of per-data-point
/// terms (the score-function surrogate of §3 and the pathwise bounds).
/// </summary>
public interface IRowwiseGradientModel
{
    /// <summary>
    /// Draw <paramref name="particles"/> particles per row like <see cref="LatentVariableModel.Forward"/> (same
    /// random stream for the same generator, same options), but with the parameters entering through per-row leaves.
    /// With <paramref name="noise"/> (from <see cref="DrawRowwiseNoise"/>) the particles are built from it instead of
    /// drawn, so several estimators can be evaluated on the same draws.
    /// </summary>
    RowwiseForward ForwardRowwise(Tensor x, int particles, SamplingOptions options, Tensor? noise = null);

    /// <summary>
    /// The standard noise a <see cref="ForwardRowwise"/> of <paramref name="rows"/> rows and
    /// <paramref name="particles"/> particles would draw from <paramref name="generator"/> — the same numbers, and the
    /// generator left in the same state — so that passing it back reproduces that pass exactly.
    /// </summary>
    Tensor DrawRowwiseNoise(long rows, int particles, Generator? generator);

    /// <summary>
    /// Row b's gradient of <paramref name="parameter"/>, [B, numel], flattened like <c>parameter.reshape(-1)</c>,
    /// from the gradients of the leaves of <see cref="ForwardRowwise"/> (chain rule through the leaf's definition).
    /// </summary>
    Tensor RowGradient(Parameter parameter, Tensor x, IReadOnlyList<Tensor> leafGradients);
}
