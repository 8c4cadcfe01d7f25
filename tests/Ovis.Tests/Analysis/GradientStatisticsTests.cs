using Ovis.Analysis;
using Ovis.Studies;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Analysis;

[Collection("Torch")]
public class GradientStatisticsTests
{
    /// <summary>Per-draw gradients g = μ + σ ⊙ ξ with known μ, σ (a linear model's gradient with Gaussian noise).</summary>
    private static (Tensor draws, double[] mean, double[] std) GaussianDraws(int n, ulong seed)
    {
        var mean = new[] { 1.0, -0.5, 0.2, 0.0, 3.0, -2.0 };
        var std = new[] { 1.0, 2.0, 0.5, 1.0, 0.1, 4.0 };
        var noise = randn(new long[] { n, mean.Length }, dtype: float64, generator: new Generator(seed));
        return (tensor(mean) + tensor(std) * noise, mean, std);
    }

    [Fact]
    public void MeanVarianceAndSnrMatchTheKnownDistributionWithinMonteCarloError()
    {
        using var scope = NewDisposeScope();
        const int n = 4000;
        var (draws, mean, std) = GaussianDraws(n, 3);
        var statistics = GradientStatistics.FromDraws(draws, 1e-15);
        double snrError = 0, trueMeanSnr = 0;
        for (int d = 0; d < mean.Length; d++)
        {
            Assert.InRange(statistics.Mean[d], mean[d] - 4 * std[d] / Math.Sqrt(n), mean[d] + 4 * std[d] / Math.Sqrt(n));
            double varianceError = std[d] * std[d] * Math.Sqrt(2.0 / (n - 1));     // sd of the unbiased sample variance
            Assert.InRange(statistics.Variance[d], std[d] * std[d] - 4 * varianceError, std[d] * std[d] + 4 * varianceError);
            double snr = Math.Abs(mean[d]) / std[d];
            trueMeanSnr += snr / mean.Length;
            snrError += (1 + snr * snr / 2) / n;                                       // delta-method variance of the SNR estimate
        }
        double standardError = Math.Sqrt(snrError) / mean.Length;
        Assert.InRange(statistics.MeanSnr, trueMeanSnr - 4 * standardError, trueMeanSnr + 4 * standardError);
        Assert.Equal(1.0, statistics.KeepRatio);
        Assert.Equal(statistics.Mean.Select(Math.Abs).Average(), statistics.Magnitude, 12);
        Assert.Equal(statistics.Variance.Average(), statistics.MeanVariance, 12);
    }

    [Fact]
    public void StreamingChunksEqualOneShotAndTheShiftKeepsPrecision()
    {
        using var scope = NewDisposeScope();
        var (draws, _, _) = GaussianDraws(1000, 5);
        var offset = draws + 1e8;                                                      // naive Σg² − (Σg)²/N would lose all digits
        var whole = GradientStatistics.FromDraws(offset, 1e-15);
        var moments = new GradientMomentAccumulator(6, 1e-15);
        foreach (var chunk in offset.split(new long[] { 1, 299, 400, 300 })) moments.Add(chunk);
        var directional = new DirectionalSnrAccumulator(moments.Mean(), 1e-15);
        foreach (var chunk in offset.split(new long[] { 500, 500 })) directional.Add(chunk);
        var streamed = GradientStatistics.From(moments, directional);
        var reference = GradientStatistics.FromDraws(draws, 1e-15);
        for (int d = 0; d < 6; d++)
        {
            Assert.Equal(whole.Variance[d], streamed.Variance[d], 9);
            Assert.Equal(reference.Variance[d], streamed.Variance[d], 6);              // shift-invariant to 1e-6
        }
        Assert.Equal(1.0, streamed.DirectionalSnr / whole.DirectionalSnr, 12);
    }

    [Fact]
    public void DirectionalSnrOfAConstructedCaseIsExact()
    {
        using var scope = NewDisposeScope();
        // g = (a, ±c) alternating: mean (a, 0), u = e₁, ‖g∥‖ = a, ‖g⊥‖ = c for every draw.
        const double a = 3.0, c = 0.5, epsilon = 1e-3;
        var rows = Enumerable.Range(0, 10).SelectMany(i => new[] { a, i % 2 == 0 ? c : -c }).ToArray();
        var draws = tensor(rows, new long[] { 10, 2 }, dtype: float64);
        var statistics = GradientStatistics.FromDraws(draws, epsilon);
        Assert.Equal(a / (epsilon + c), statistics.DirectionalSnr, 12);
        Assert.Equal(a, statistics.Mean[0], 12);
        Assert.Equal(0, statistics.Mean[1], 12);
        // coordinate 0 is constant: masked out of the averages, its SNR floored by ε.
        Assert.False(statistics.Mask[0]);
        Assert.Equal(0.5, statistics.KeepRatio);
        Assert.Equal(a / epsilon, statistics.Snr[0], 9);
        Assert.Equal(statistics.Variance[1], statistics.MeanVariance, 15);
        Assert.Equal(c * c * 10 / 9, statistics.Variance[1], 12);
    }

    [Fact]
    public void PercentileIsTheFloorQDPlusOnethOrderStatistic()
    {
        var values = Enumerable.Range(1, 10).Select(v => (double)v).Reverse().ToArray();
        Assert.Equal(1, GradientStatistics.Percentile(values, 0.05));    // ⌊0.5⌋ + 1 = 1st
        Assert.Equal(3, GradientStatistics.Percentile(values, 0.25));    // ⌊2.5⌋ + 1 = 3rd
        Assert.Equal(6, GradientStatistics.Percentile(values, 0.5));     // ⌊5⌋ + 1 = 6th
        Assert.Equal(10, GradientStatistics.Percentile(values, 0.95));   // ⌊9.5⌋ + 1 = 10th
        Assert.Equal(10, GradientStatistics.Percentile(values, 1.0));    // clamped to the largest
        Assert.Throws<ArgumentException>(() => GradientStatistics.Percentile(values, 1.5));
    }

    [Fact]
    public void TrueGradientComparisonGivesRelativeBiasAndCosine()
    {
        var comparison = GradientStatistics.Compare(new[] { 1.0, 1.0 }, new[] { 2.0, 0.0 });
        Assert.Equal(Math.Sqrt(2) / 2, comparison.RelativeBias, 12);
        Assert.Equal(1 / Math.Sqrt(2), comparison.Cosine, 12);
    }

    private static (GaussianToyModel model, Tensor data) SmallToy(int points = 5)
    {
        var generator = new Generator(11);
        var model = new GaussianToyModel(3, dtype: ScalarType.Float64, generator: generator);
        var (data, _) = GaussianToyModel.GenerateData(3, points, 42, ScalarType.Float64);
        model.SetOptimum(data);
        model.Perturb(0.3, generator);
        return (model, data);
    }

    private static Tensor Collect(IGradientDrawSource source, int count, ulong seed)
    {
        var chunks = new List<Tensor>();
        source.Draw(count, seed, chunk => chunks.Add(chunk.clone().DetachFromDisposeScope()));
        var all = cat(chunks.ToArray(), 0);
        foreach (var c in chunks) c.Dispose();
        return all;
    }

    [Theory]
    [InlineData("ovis-gamma0", "A,b")]
    [InlineData("vimco-arithmetic", "inference")]
    [InlineData("ovis-S1-exclusive", "inference")]
    [InlineData("reinforce", "generative")]
    [InlineData("pathwise-iwae", "A,b,mu")]
    [InlineData("stl", "inference")]
    [InlineData("dreg", "A,b")]
    [InlineData("dreg", "mu")]
    [InlineData("pathwise-iwae", "inference")]
    public void RowwiseDrawsEqualBackwardPassesWhenEachChunkIsOneDraw(string id, string key)
    {
        using var scope = NewDisposeScope();
        var (model, data) = SmallToy();
        var estimator = EstimatorRegistry.Create(id);
        var settings = new EstimatorSettings(4);
        var selection = ParameterSelection.Parse(key);
        long particles = estimator.ParticlesPerDraw(4);
        // chunk = exactly N rows: one draw per chunk, the same random calls as one forward pass.
        var rowwise = new RowwiseGradientDraws(model, estimator, settings, data, selection, chunkElements: data.shape[0] * particles * 3);
        Assert.Equal(data.shape[0], rowwise.RowsPerChunk);
        var backward = new BackwardGradientDraws(model, estimator, settings, data, selection);
        Assert.Equal(backward.Dimension, rowwise.Dimension);
        var fast = Collect(rowwise, 3, 17);
        var slow = Collect(backward, 3, 17);
        double scale = slow.abs().max().ToDouble(), difference = (fast - slow).abs().max().ToDouble();
        Assert.True(scale > 1e-6);
        // The same draws: equal up to the float32 rounding of the row-wise projections ε·u (relative ~1e-7 per
        // log-weight); a different draw would differ by O(scale).
        Assert.True(difference <= 1e-5 * scale, $"max difference {difference:E3} at scale {scale:E3}");
    }

    [Fact]
    public void RowwiseDrawsSplitAcrossChunksAgreeStatisticallyWithBackwardPasses()
    {
        using var scope = NewDisposeScope();
        var (model, data) = SmallToy(points: 7);
        var estimator = EstimatorRegistry.Create("vimco-arithmetic");
        var settings = new EstimatorSettings(5);
        var selection = ParameterSelection.ByName("b");
        // 4 rows per chunk with 7 points per draw: draws straddle chunks and chunks hold pieces of several draws.
        var rowwise = new RowwiseGradientDraws(model, estimator, settings, data, selection, chunkElements: 4 * 5 * 3);
        var backward = new BackwardGradientDraws(model, estimator, settings, data, selection);
        const int n = 200;
        var collector = new GradientCollector();
        var fast = collector.Collect(rowwise, n, 1);
        var slow = collector.Collect(backward, n, 2);
        for (int d = 0; d < 3; d++)
        {
            double standardError = Math.Sqrt((fast.Variance[d] + slow.Variance[d]) / n);
            Assert.InRange(fast.Mean[d] - slow.Mean[d], -4.5 * standardError, 4.5 * standardError);
            double varianceError = Math.Sqrt(2.0 / (n - 1)) * (fast.Variance[d] + slow.Variance[d]) / Math.Sqrt(2);
            Assert.InRange(fast.Variance[d] - slow.Variance[d], -4.5 * varianceError, 4.5 * varianceError);
        }
    }

    [Fact]
    public void ReplayedSecondPassEqualsStoredDraws()
    {
        using var scope = NewDisposeScope();
        var (model, data) = SmallToy();
        var source = new RowwiseGradientDraws(model, EstimatorRegistry.Create("ovis-gamma0"), new EstimatorSettings(3), data, ParameterSelection.Inference, chunkElements: 40);
        var stored = new GradientCollector(storeBudgetBytes: long.MaxValue);
        var replayed = new GradientCollector(storeBudgetBytes: 0);
        var a = stored.Collect(source, 50, 9);
        var b = replayed.Collect(source, 50, 9);
        Assert.False(stored.LastRunReplayed);
        Assert.True(replayed.LastRunReplayed);
        Assert.Equal(a.DirectionalSnr, b.DirectionalSnr, 12);
        Assert.Equal(a.MeanSnr, b.MeanSnr, 12);
    }

    [Fact]
    public void EstimatorsDrawnTogetherGetExactlyTheDrawsEachGetsAlone()
    {
        using var scope = NewDisposeScope();
        var (model, data) = SmallToy();
        var ids = new[] { "ovis-gamma0", "vimco-arithmetic", "pathwise-iwae", "stl", "dreg", "ovis-gamma1" };
        var estimators = ids.Select(EstimatorRegistry.Create).ToArray();
        // 4 particles × 3 dimensions = 12 elements a row: 7 rows a chunk, so draws of 5 points straddle chunks.
        var together = new RowwiseGradientDraws(model, estimators, new EstimatorSettings(4), data, ParameterSelection.Parse("A,b,mu"), chunkElements: 84);
        var joint = new GradientCollector().CollectEach(together, 30, 17);
        for (int i = 0; i < ids.Length; i++)
        {
            var alone = new RowwiseGradientDraws(model, estimators[i], new EstimatorSettings(4), data, ParameterSelection.Parse("A,b,mu"), chunkElements: 84);
            var single = new GradientCollector().Collect(alone, 30, 17);
            Assert.Equal(single.Mean, joint[i].Mean);
            Assert.Equal(single.Variance, joint[i].Variance);
            Assert.Equal(single.DirectionalSnr, joint[i].DirectionalSnr);
        }
        // The replayed second pass (no room to keep the draws) gives the same statistics.
        var replayed = new GradientCollector(storeBudgetBytes: 0).CollectEach(together, 30, 17);
        for (int i = 0; i < ids.Length; i++) Assert.Equal(joint[i].DirectionalSnr, replayed[i].DirectionalSnr, 1e-12 * joint[i].DirectionalSnr);
    }

    [Fact]
    public void EstimatorsThatCannotShareDrawsAreRefusedOrComputedAlone()
    {
        using var scope = NewDisposeScope();
        var (model, data) = SmallToy();
        var settings = new EstimatorSettings(4);
        // Different particles per data point (OVIS-MC exclusive draws K + S·K).
        var error = Assert.Throws<ArgumentException>(() => new RowwiseGradientDraws(model,
            new[] { EstimatorRegistry.Create("ovis-gamma0"), EstimatorRegistry.Create("ovis-S1-exclusive") }, settings, data, ParameterSelection.Inference));
        Assert.Contains("same particles per data point", error.Message);
        // Wake-sleep draws its own sleep samples from the generator: sharing would change its draws.
        var together = new RowwiseGradientDraws(model, new[] { EstimatorRegistry.Create("ovis-gamma0"), EstimatorRegistry.Create("wake-sleep") }, settings, data, ParameterSelection.Inference);
        var refused = Assert.Throws<SharedDrawsNotSupportedException>(() => new GradientCollector().CollectEach(together, 4, 3));
        Assert.Equal("wake-sleep", refused.Estimator);
        // The study computes such a group one estimator at a time, with the results each gets alone.
        var study = new AsymptoticStudySettings(new[] { "ovis-gamma0", "wake-sleep" }, new[] { 3 }, Draws: 6, Points: 4, Dimension: 3);
        var rows = new AsymptoticStudy(study).Run();
        var alone = new AsymptoticStudy(study with { Estimators = new[] { "wake-sleep" } }).Run();
        Assert.Equal(new[] { "ovis-gamma0", "wake-sleep" }, rows.Select(r => r.Estimator).ToArray());
        Assert.Equal(alone[0].Statistics.Mean, rows[1].Statistics.Mean);
    }

    /// <summary>One draw per chunk, like the row-wise source at large K; records the live tensors at each chunk.</summary>
    private sealed class OneDrawPerChunk : IGradientDrawSource
    {
        public List<long> LiveTensors { get; } = new();
        public int Dimension => 4;
        public IReadOnlyList<NamedParameter> Parameters => Array.Empty<NamedParameter>();
        public void Draw(int count, ulong seed, Action<Tensor> consume)
        {
            var generator = new Generator(seed);
            for (int n = 0; n < count; n++)
            {
                using var scope = NewDisposeScope();
                LiveTensors.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
                consume(randn(new long[] { 1, Dimension }, dtype: float64, generator: generator));
            }
        }
    }

    [Fact]
    public void KeptDrawsDoNotAddATensorPerChunk()
    {
        // Kept draws live in one buffer allocated up front: a small tensor kept per chunk fragmented the heap between
        // the chunks' large blocks (peak 2.4 GB instead of 0.63 GB after 1,000 one-draw chunks at K = 100).
        var source = new OneDrawPerChunk();
        var collector = new GradientCollector(storeBudgetBytes: long.MaxValue);
        var statistics = collector.Collect(source, 300, 5);
        Assert.False(collector.LastRunReplayed);
        Assert.Equal(source.LiveTensors[2], source.LiveTensors[^1]);
        var replayed = new GradientCollector(storeBudgetBytes: 0).Collect(new OneDrawPerChunk(), 300, 5);
        Assert.Equal(replayed.DirectionalSnr, statistics.DirectionalSnr, 12);
        Assert.Equal(replayed.MeanSnr, statistics.MeanSnr, 12);
    }

    [Fact]
    public void ParameterSelectionByNameReportsTheAvailableNames()
    {
        using var scope = NewDisposeScope();
        var (model, _) = SmallToy();
        Assert.Equal(new[] { "b" }, ParameterSelection.ByName("b").Select(model).Select(p => p.Name));
        Assert.Equal(2, ParameterSelection.Inference.Select(model).Count);
        var error = Assert.Throws<ArgumentException>(() => ParameterSelection.ByName("weights").Select(model));
        Assert.Contains("mu", error.Message);
    }

    /// <summary>Delta-method standard error of the coordinate-averaged SNR.</summary>
    private static double SnrStandardError(GradientStatistics s)
        => Math.Sqrt(s.Snr.Sum(r => (1 + r * r / 2) / s.Draws)) / s.Dimension;

    [Fact]
    public void QuickStudyOvisSnrRisesWithKWhileVimcoFalls()
    {
        var settings = new AsymptoticStudySettings(new[] { "ovis-gamma0", "vimco-arithmetic" }, new[] { 3, 100 }, Draws: 800, Points: 16, Dimension: 10);
        var rows = new AsymptoticStudy(settings).Run();
        GradientStatistics At(string id, int k) => rows.Single(r => r.Estimator == id && r.Particles == k).Statistics;
        var (ovisSmall, ovisLarge) = (At("ovis-gamma0", 3), At("ovis-gamma0", 100));
        var (vimcoSmall, vimcoLarge) = (At("vimco-arithmetic", 3), At("vimco-arithmetic", 100));
        double ovisError = Math.Sqrt(Math.Pow(SnrStandardError(ovisSmall), 2) + Math.Pow(SnrStandardError(ovisLarge), 2));
        double vimcoError = Math.Sqrt(Math.Pow(SnrStandardError(vimcoSmall), 2) + Math.Pow(SnrStandardError(vimcoLarge), 2));
        Assert.True(ovisLarge.MeanSnr - ovisSmall.MeanSnr > 4 * ovisError,
            $"OVIS~ γ=0 SNR {ovisSmall.MeanSnr:G3} → {ovisLarge.MeanSnr:G3} (±{ovisError:G2})");
        Assert.True(vimcoSmall.MeanSnr - vimcoLarge.MeanSnr > 4 * vimcoError,
            $"VIMCO SNR {vimcoSmall.MeanSnr:G3} → {vimcoLarge.MeanSnr:G3} (±{vimcoError:G2})");
        double ovisSlope = AsymptoticStudy.LogLogSlope(rows.Where(r => r.Estimator == "ovis-gamma0").Select(r => ((double)r.Particles, r.Statistics.MeanSnr)));
        Assert.InRange(ovisSlope, 0.1, 1.0);
    }

    [Fact]
    public void ShardsSavedInOneFolderGiveTheSameStatisticsAsOneRun()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ovis-shards-" + Guid.NewGuid().ToString("N"));
        try
        {
            var settings = new AsymptoticStudySettings(new[] { "ovis-gamma0", "pathwise-iwae" }, new[] { 3, 10 }, Draws: 30, Points: 8, Dimension: 4);
            var serial = new AsymptoticStudy(settings).Run();
            // Two shards (as --workers 2 runs them, in separate processes) split the four cells, largest K first.
            var first = new AsymptoticStudy(settings with { Shard = (0, 2) }).Run(cells: new AsymptoticStudyCells(directory, settings));
            var second = new AsymptoticStudy(settings with { Shard = (1, 2) }).Run(cells: new AsymptoticStudyCells(directory, settings));
            Assert.Equal(2, first.Count);
            Assert.Equal(2, second.Count);
            // largest K first, dealt in turn: each shard gets one K = 10 and one K = 3 cell (balanced work)
            Assert.All(new[] { first, second }, shard => Assert.Equal(new[] { 3, 10 }, shard.Select(r => r.Particles).Order()));
            Assert.Empty(first.Select(r => (r.Estimator, r.Particles)).Intersect(second.Select(r => (r.Estimator, r.Particles))));
            var merged = new AsymptoticStudy(settings).Run(cells: new AsymptoticStudyCells(directory, settings));
            Assert.All(merged, r => Assert.True(r.Restored));
            Assert.Equal(serial.Select(r => (r.Estimator, r.Particles)), merged.Select(r => (r.Estimator, r.Particles)));
            for (int i = 0; i < serial.Count; i++)
            {
                Assert.Equal(serial[i].Statistics.Mean, merged[i].Statistics.Mean);
                Assert.Equal(serial[i].Statistics.Variance, merged[i].Statistics.Variance);
                Assert.Equal(serial[i].Statistics.DirectionalSnr, merged[i].Statistics.DirectionalSnr);
            }
            Assert.Throws<ArgumentException>(() => new AsymptoticStudy(settings with { Shard = (2, 2) }));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void ResumedStudyReusesSavedCellsExactlyAndOnlyUnderTheSameSettings()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ovis-cells-" + Guid.NewGuid().ToString("N"));
        try
        {
            var settings = new AsymptoticStudySettings(new[] { "ovis-gamma0" }, new[] { 3, 10 }, Draws: 40, Points: 8, Dimension: 4);
            var first = new AsymptoticStudy(settings).Run(cells: new AsymptoticStudyCells(directory, settings));
            Assert.All(first, r => Assert.False(r.Restored));
            Assert.Equal(2, Directory.GetFiles(directory, "*.json").Length);
            Assert.Empty(Directory.GetFiles(directory, "*.tmp"));

            // A killed run that finished only K = 3: delete the K = 10 cell; the resumed run restores K = 3 and recomputes K = 10.
            File.Delete(Directory.GetFiles(directory, "*_K10.json").Single());
            var resumed = new AsymptoticStudy(settings).Run(cells: new AsymptoticStudyCells(directory, settings));
            Assert.True(resumed[0].Restored);
            Assert.False(resumed[1].Restored);
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(first[i].Statistics.Mean, resumed[i].Statistics.Mean);
                Assert.Equal(first[i].Statistics.Variance, resumed[i].Statistics.Variance);
                Assert.Equal(first[i].Statistics.MeanSnr, resumed[i].Statistics.MeanSnr);
                Assert.Equal(first[i].Statistics.DirectionalSnr, resumed[i].Statistics.DirectionalSnr);
            }

            // A report of saved cells computes nothing: a second estimator with no saved cell is left out.
            var wider = settings with { Estimators = new[] { "ovis-gamma0", "vimco-arithmetic" } };
            var report = new AsymptoticStudy(wider).Run(cells: new AsymptoticStudyCells(directory, wider), savedOnly: true);
            Assert.Equal(new[] { ("ovis-gamma0", 3), ("ovis-gamma0", 10) }, report.Select(r => (r.Estimator, r.Particles)).ToArray());
            Assert.All(report, r => Assert.True(r.Restored));
            Assert.Equal(2, Directory.GetFiles(directory, "*.json").Length);

            // Other draws or no reuse: nothing is restored.
            var other = settings with { Draws = 41 };
            Assert.All(new AsymptoticStudy(other).Run(cells: new AsymptoticStudyCells(directory, other)), r => Assert.False(r.Restored));
            Assert.Null(new AsymptoticStudyCells(directory, settings, reuse: false).TryLoad("ovis-gamma0", 10));

            // A damaged cell is named in a clear error.
            var damaged = Directory.GetFiles(directory, "*_K3.json").Single();
            File.WriteAllText(damaged, "{ \"Fingerprint\": ");
            var error = Assert.Throws<InvalidDataException>(() => new AsymptoticStudyCells(directory, other).TryLoad("ovis-gamma0", 3));
            Assert.Contains(damaged, error.Message);
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void CollectedBackwardDrawsMatchTheExactOracleMoments()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create();
        var data = TinyModel.Data();
        var estimator = EstimatorRegistry.Create("ovis-gamma0");
        var settings = new EstimatorSettings(3);
        var exact = new ExactOracle(model, data).Moments(estimator, settings);
        const int n = 300;
        var collector = new GradientCollector();
        var statistics = collector.Collect(model, estimator, settings, data, ParameterSelection.Inference, n, 5);   // no row-wise mode: backward passes
        Assert.Equal(exact.PhiMean.Length, statistics.Dimension);
        for (int d = 0; d < statistics.Dimension; d++)
        {
            double standardError = Math.Sqrt(statistics.Variance[d] / n) + 1e-12;
            Assert.InRange(statistics.Mean[d], -exact.PhiMean[d] - 4.5 * standardError, -exact.PhiMean[d] + 4.5 * standardError);   // loss gradient = −ascent
        }
        double totalVariance = statistics.Variance.Sum();
        Assert.InRange(totalVariance, exact.PhiVariance * (1 - 6 * Math.Sqrt(2.0 / (n - 1))), exact.PhiVariance * (1 + 6 * Math.Sqrt(2.0 / (n - 1))));
        var first = collector.Collect(model, estimator, settings, data, ParameterSelection.Inference, 20, 8);
        var again = collector.Collect(model, estimator, settings, data, ParameterSelection.Inference, 20, 8);
        Assert.Equal(first.MeanSnr, again.MeanSnr, 14);                                                          // fixed seed, same draws
    }

    [Fact]
    public void LogLogSlopeRecoversAPowerLaw()
    {
        var points = new[] { 3.0, 10, 30, 100 }.Select(k => (k, 2 * Math.Pow(k, -0.5)));
        Assert.Equal(-0.5, AsymptoticStudy.LogLogSlope(points), 12);
    }
}
