using System.Text.RegularExpressions;
using Ovis.Analysis;
using Ovis.Estimators;
using static TorchSharp.torch;

namespace Ovis.Tests.Estimators;

/// <summary>
/// The estimator of docs/library.md §7, written as a user would (public members only): derived from
/// ScoreFunctionEstimator, registered under an id of its own, and verified unbiased by the exact oracle.
/// </summary>
[Collection("Torch")]
public class CustomEstimatorTests
{
    private sealed class LeaveOneOutMean() : ScoreFunctionEstimator("loo-mean")
    {
        public override EstimatorDescription Description => new(EstimatorFamily.ScoreFunction, "c_k = mean_{l≠k} a_l", "O(K)");
        public override GradientClaim Claim(double alpha) => GradientClaim.Unbiased("c_k does not depend on z_k");
        protected override Tensor ControlVariate(LearningSignal signal)
        {
            var a = signal.ScaledLogWeights;                                    // [B, M, K]
            return (a.sum(-1, keepdim: true) - a) / (signal.Particles - 1);
        }
    }

    [Fact]
    public void AUsersScoreFunctionEstimatorRegistersAndIsExactlyUnbiased()
    {
        EstimatorRegistry.Register(new EstimatorForm("loo-mean", "loo-mean", "c_k = mean of the other log-weights",
            new Regex("^loo-mean$"), _ => new LeaveOneOutMean()));
        var estimator = EstimatorRegistry.Create("loo-mean");
        Assert.IsType<LeaveOneOutMean>(estimator);
        var verifier = new EstimatorVerifier(new ExactOracle(TinyModel.Create(), Ovis.Models.TinyDiscreteModel.Data()));
        var result = verifier.Verify(estimator, particles: 3, alpha: 0);
        Assert.True(result.PhiRelativeBias < 1e-9 && result.ThetaRelativeBias < 1e-9, $"bias φ {result.PhiRelativeBias}, θ {result.ThetaRelativeBias}");
        Assert.True(result.ClaimHolds);
        // and it is a different estimator from REINFORCE: its exact variance is not REINFORCE's
        var reinforce = verifier.Verify(EstimatorRegistry.Create("reinforce"), particles: 3, alpha: 0);
        Assert.NotEqual(reinforce.PhiVariance, result.PhiVariance, 6);
    }
}
