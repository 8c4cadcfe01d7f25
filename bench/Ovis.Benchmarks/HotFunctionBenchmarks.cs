using BenchmarkDotNet.Attributes;
using Ovis.Bounds;
using Ovis.Estimators;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Benchmarks;

/// <summary>
/// The hot pure functions of the estimators at K from 10 to 10⁵ on a batch of 24 rows (float32). The memory
/// diagnoser counts managed allocations only; tensor memory is native (measure it with <c>ovis bench</c>).
/// </summary>
[MemoryDiagnoser]
public class LeaveOneOutBenchmarks
{
    private Tensor logWeights = null!;   // [24, 1, K]
    private LearningSignal signal = null!;
    private ScoreFunctionEstimator ovisAsymptotic = null!, vimcoArithmetic = null!, ovisMonteCarlo = null!;

    /// <summary>K, the number of particles.</summary>
    [Params(10, 100, 1000, 10_000, 100_000)]
    public int Particles { get; set; }

    /// <summary>Draw the log-weights once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        logWeights = randn(new long[] { 24, 1, Particles }, generator: new Generator(1)) * 3;
        var auxiliary = randn(new long[] { 24, 1, 10 }, generator: new Generator(2)) * 3;
        signal = new LearningSignal(logWeights, 0, auxiliary);
        ovisAsymptotic = (ScoreFunctionEstimator)EstimatorRegistry.Create("ovis-gamma1");
        vimcoArithmetic = (ScoreFunctionEstimator)EstimatorRegistry.Create("vimco-arithmetic");
        ovisMonteCarlo = (ScoreFunctionEstimator)EstimatorRegistry.Create("ovis-S10-exclusive");
    }

    /// <summary>The floor: one log-sum-exp over K.</summary>
    [Benchmark(Baseline = true)]
    public float LogSumExp()
    {
        using var scope = NewDisposeScope();
        return logWeights.logsumexp(-1, false).sum().ToSingle();
    }

    /// <summary>Exact leave-one-out log-sum-exp by prefix and suffix scans, O(K).</summary>
    [Benchmark]
    public float LeaveOneOutLogSumExp()
    {
        using var scope = NewDisposeScope();
        return LeaveOneOut.LogSumExpExcludingEach(logWeights).sum().ToSingle();
    }

    /// <summary>OVIS~ (γ = 1) residual d − c from the log-weights.</summary>
    [Benchmark]
    public float OvisAsymptoticResidual()
    {
        using var scope = NewDisposeScope();
        return ovisAsymptotic.Residual(new LearningSignal(logWeights, 0)).sum().ToSingle();
    }

    /// <summary>VIMCO-arithmetic residual, O(K).</summary>
    [Benchmark]
    public float VimcoArithmeticResidual()
    {
        using var scope = NewDisposeScope();
        return vimcoArithmetic.Residual(new LearningSignal(logWeights, 0)).sum().ToSingle();
    }

    /// <summary>OVIS_MC (S = 10) residual, O(S·K).</summary>
    [Benchmark]
    public float OvisMonteCarloResidual()
    {
        using var scope = NewDisposeScope();
        return ovisMonteCarlo.Residual(new LearningSignal(logWeights, 0, signal.AuxiliaryScaledLogWeights)).sum().ToSingle();
    }
}
