using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// REINFORCE for the importance-weighted bound: c_k = 0 (docs/estimators.md §4.1). Unbiased; the floor every other
/// score-function estimator is timed against.
/// </summary>
public sealed class Reinforce : ScoreFunctionEstimator
{
    /// <summary>Create the estimator.</summary>
    public Reinforce() : base("reinforce") { }

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.ScoreFunction, "score function with no control variate (c_k = 0)", "O(K)");

    /// <inheritdoc />
    public override GradientClaim Claim(double alpha) => GradientClaim.Unbiased("c_k = 0 does not depend on z_k");

    /// <inheritdoc />
    protected override Tensor ControlVariate(LearningSignal signal) => zeros_like(signal.ScaledLogWeights);
}
