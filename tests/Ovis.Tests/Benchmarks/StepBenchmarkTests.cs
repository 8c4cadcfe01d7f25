using Ovis.Benchmarks;

namespace Ovis.Tests.Benchmarks;

[Collection("Torch")]
public sealed class StepBenchmarkTests
{
    [Fact]
    public void InterleavedConfigurationsEachGetTheirOwnTimedSteps()
    {
        var cases = new[] { "reinforce", "ovis-gamma1", "tvo" }
            .Select(id => new StepBenchmarkCase("gmm", id, 5, 10, Steps: 4, WarmupSteps: 1)).ToArray();
        var results = StepBenchmark.RunInterleaved(cases);
        Assert.Equal(cases, results.Select(r => r.Case));
        foreach (var result in results)
        {
            Assert.True(result.MedianMilliseconds > 0 && result.LowerQuartileMilliseconds <= result.MedianMilliseconds
                        && result.MedianMilliseconds <= result.UpperQuartileMilliseconds);
            Assert.Equal(new[] { "backward", "estimator", "forward", "optimizer" }, result.Phases!.Keys.Order());
            Assert.All(result.Phases.Values, v => Assert.True(v >= 0));
            Assert.True(double.IsNaN(result.PeakResidentMegabytes));                  // not separable in one process
        }
        Assert.Throws<ArgumentException>(() => StepBenchmark.RunInterleaved(new[] { cases[0], cases[1] with { Steps = 5 } }));
        var single = StepBenchmark.Run(cases[0]);
        Assert.True(single.PeakResidentMegabytes > 0 && single.CpuMillisecondsPerStep > 0);
    }
}
