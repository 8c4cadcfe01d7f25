using BenchmarkDotNet.Attributes;
using Ovis.Analysis;
using Ovis.Studies;
using Ovis.Estimators;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Benchmarks;

/// <summary>
/// One gradient draw of the asymptotic study at the paper's settings (Gaussian toy, D = 20, 1024 points, w.r.t. b) for
/// the six estimators of Figure 1: each alone, as separate cells, against all six on shared particles
/// (<see cref="RowwiseGradientDraws.DrawEach"/>, what a study process does with the cells of one K). The ratio of the
/// two, taken in one run, is the saving of sharing the normal sampling.
/// </summary>
public class GradientDrawBenchmarks
{
    private static readonly string[] Ids = { "pathwise-iwae", "dreg", "stl", "ovis-gamma0", "ovis-gamma1", "vimco-arithmetic" };
    private RowwiseGradientDraws[] alone = null!;
    private RowwiseGradientDraws together = null!;

    /// <summary>K, the number of particles.</summary>
    [Params(100, 1000)]
    public int Particles { get; set; }

    /// <summary>Build the toy at its perturbed optimum and the draw sources once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (model, data) = new AsymptoticStudy(AsymptoticStudySettings.Paper(Ids)).BuildModel();
        var estimators = Ids.Select(EstimatorRegistry.Create).ToArray();
        var settings = new EstimatorSettings(Particles);
        alone = estimators.Select(e => new RowwiseGradientDraws(model, e, settings, data, ParameterSelection.Parse("b"))).ToArray();
        together = new RowwiseGradientDraws(model, estimators, settings, data, ParameterSelection.Parse("b"));
    }

    /// <summary>One draw of each estimator, each from its own pass over fresh noise.</summary>
    [Benchmark(Baseline = true)]
    public int SeparateCells()
    {
        int draws = 0;
        foreach (var source in alone) source.Draw(1, 10, chunk => draws += (int)chunk.shape[0]);
        return draws;
    }

    /// <summary>One draw of each estimator on one shared draw of the noise.</summary>
    [Benchmark]
    public int SharedParticles()
    {
        int draws = 0;
        together.DrawEach(1, 10, (_, chunk) => draws += (int)chunk.shape[0]);
        return draws;
    }
}
