using Ovis.Catalog;
using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

public class ExperimentReportTests
{
    /// <summary>Write a run directory with the given metric series (one value per evaluation).</summary>
    private static CompletedRun FakeRun(TempDirectory directory, string estimator, int iw, int seed, params (string Metric, double[] Series)[] metrics)
    {
        var run = RunDefinition.FromJson($$"""{"model": "gmm", "estimator": "{{estimator}}", "iw": {{iw}}, "seed": {{seed}}}""");
        var outDir = RunDirectory.For(directory.Path, run);
        Directory.CreateDirectory(outDir);
        int steps = metrics.Max(m => m.Series.Length);
        var lines = Enumerable.Range(0, steps).Select(i => "{\"step\": " + (i + 1) * 1000 + string.Concat(metrics.Where(m => i < m.Series.Length)
            .Select(m => $", \"{m.Metric}\": {m.Series[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture)}")) + "}");
        File.WriteAllLines(Path.Combine(outDir, RunDirectory.MetricsFile), lines);
        return new CompletedRun(run, outDir);
    }

    [Theory]
    [InlineData("gmm/posterior_error", Reduction.Min)]
    [InlineData("gmm/prior_mse", Reduction.Min)]
    [InlineData("loss/L_k", Reduction.Max)]
    [InlineData("test:loss/elbo", Reduction.Max)]
    [InlineData("grads/snr", Reduction.Mean)]
    [InlineData("grads/variance", Reduction.Mean)]
    [InlineData("loss/kl_q_p", Reduction.Last)]
    [InlineData("ess", Reduction.Last)]
    public void DefaultReductionsFollowTheMetricName(string name, Reduction expected)
    {
        Assert.Equal(expected, MetricSpec.DefaultReduction(name));
        Assert.Equal(new MetricSpec(name, expected), MetricSpec.Parse(name));
    }

    [Fact]
    public void ExplicitReductionsOverrideTheDefault()
    {
        Assert.Equal(new MetricSpec("grads/snr", Reduction.Last), MetricSpec.Parse("grads/snr:last"));
        Assert.Equal(new MetricSpec("train:ess", Reduction.Last), MetricSpec.Parse("train:ess"));
        var series = new[] { 3.0, 1.0, 2.0, 6.0 };
        Assert.Equal((1.0, 6.0, 3.0, 6.0), (new MetricSpec("m", Reduction.Min).Reduce(series), new MetricSpec("m", Reduction.Max).Reduce(series),
            new MetricSpec("m", Reduction.Mean).Reduce(series), new MetricSpec("m", Reduction.Last).Reduce(series)));
    }

    [Fact]
    public void RunsAreReducedThenAggregatedOverSeedsIntoAPivotByEstimatorAndK()
    {
        using var directory = new TempDirectory();
        var runs = new[]
        {
            FakeRun(directory, "ovis-gamma1", 5, 1, ("gmm/posterior_error", new[] { 0.5, 0.1, 0.2 }), ("grads/snr", new[] { 1.0, 2.0, 3.0 })),
            FakeRun(directory, "ovis-gamma1", 5, 2, ("gmm/posterior_error", new[] { 0.4, 0.3, 0.35 }), ("grads/snr", new[] { 3.0, 3.0, 3.0 })),
            FakeRun(directory, "ovis-gamma1", 2, 1, ("gmm/posterior_error", new[] { 0.9, 0.7 })),
            FakeRun(directory, "reinforce", 20, 1, ("gmm/posterior_error", new[] { 0.8, 0.6, 0.7 })),
            FakeRun(directory, "reinforce", 20, 2, ("gmm/posterior_error", new[] { 0.9 })),
            FakeRun(directory, "reinforce", 2, 1, ("gmm/posterior_error", new[] { 1.0 })),
        };
        var options = new ReportOptions(MetricSpec.ParseMany("gmm/posterior_error,grads/snr,loss/L_k"));
        var report = ExperimentReport.Build(runs, options);

        Assert.Equal(new[] { "estimator" }, report.RowArguments);
        Assert.Equal(new[] { "loss/L_k" }, report.MissingMetrics);
        var error = report.Pivots[0];
        Assert.Equal(new[] { "ovis-gamma1", "reinforce" }, error.Rows);
        Assert.Equal(new[] { "2", "5", "20" }, error.Columns.Select(c => c.Value)); // numeric order, not first appearance
        var cell = error.Cells[("ovis-gamma1", "5")]; // minima 0.1 and 0.3
        Assert.Equal(0.2, cell.Mean, 12);
        Assert.Equal(Math.Sqrt(0.02), cell.StandardDeviation, 12);
        Assert.Equal((0.2 - 0.5 * Math.Sqrt(0.02), 2), (cell.Lower, cell.Count));
        Assert.Equal(0.75, error.Cells[("reinforce", "20")].Mean, 12); // minima 0.6 and 0.9
        Assert.Equal(new CellStatistics(0.7, 0, 1), error.Cells[("ovis-gamma1", "2")]);
        Assert.False(error.Cells.ContainsKey(("reinforce", "5")));
        var snr = report.Pivots[1];
        Assert.Equal(2.5, snr.Cells[("ovis-gamma1", "5")].Mean, 12); // training means 2 and 3
        Assert.Single(snr.Cells);

        var spec = ExperimentSpec.Parse("""{ "name": "r", "description": "test grid", "global": { "estimator": "reinforce" } }""", "r.json", "r");
        var markdown = report.ToMarkdown(spec, 8, options, new[] { directory.File("gmm_posterior_error.png") });
        Assert.Contains("## min gmm/posterior_error", markdown);
        Assert.Contains("| estimator | K=2 | K=5 | K=20 |", markdown);
        Assert.Contains($"| ovis-gamma1 | 0.7 (n=1) | 0.2 ± {ExperimentReport.Format(0.5 * Math.Sqrt(0.02))} | – |", markdown);
        Assert.Contains("| reinforce | 1 (n=1) | – | 0.75 ± 0.1061 |", markdown);
        Assert.Contains("No run reported: `loss/L_k`", markdown);
        Assert.Contains("![gmm_posterior_error](gmm_posterior_error.png)", markdown);
        Assert.Contains("gmm/posterior_error,min,\"ovis-gamma1\",5,0.2", report.ToCsv(options));
    }

    [Fact]
    public void FinalMetricsComeFromTheFinalEvaluationInTheRunSummary()
    {
        using var directory = new TempDirectory();
        var runs = new[]
        {
            FakeRun(directory, "ovis-gamma1", 5, 1, ("test:loss/L_k", new[] { -130.0, -125.0 })),
            FakeRun(directory, "ovis-gamma1", 5, 2, ("test:loss/L_k", new[] { -131.0, -127.0 })),
            FakeRun(directory, "vimco-arithmetic", 5, 1, ("test:loss/L_k", new[] { -129.0 })),
        };
        var finals = new[] { -122.5, -124.5 };
        for (int i = 0; i < 2; i++)
            File.WriteAllText(Path.Combine(runs[i].OutDir, RunDirectory.SummaryFile),
                $$"""{ "status": "completed", "final_evaluation": { "particles": 5000, "points": 500, "test:loss/L_k": {{finals[i]}}, "test:loss/L_k_stderr": 1.5 } }""");
        var spec = ExperimentSpec.Parse("""{ "name": "s", "global": { "model": "sbn" }, "estimators": [ { "estimator": "ovis-gamma1" } ] }""", "s.json", "s");
        Assert.Equal(new SigmoidBeliefNetworkEntry().ReportMetrics, ReportOptions.DefaultMetricsFor(spec));
        var options = new ReportOptions(MetricSpec.ParseMany(ReportOptions.DefaultMetricsFor(spec)));
        var report = ExperimentReport.Build(runs, options);
        var final = report.Pivots.Single(p => p.Metric.Name == "final:test:loss/L_k");
        Assert.Equal(-123.5, final.Cells[("ovis-gamma1", "5")].Mean, 12);            // the final L_5000 of both seeds, not the training maxima
        Assert.False(final.Cells.ContainsKey(("vimco-arithmetic", "5")));          // that run wrote no summary
        Assert.Equal(-126.0, report.Pivots.Single(p => p.Metric.Name == "test:loss/L_k").Cells[("ovis-gamma1", "5")].Mean, 12);
        Assert.Equal("final_test_loss_L_k.png", ReportFigures.FileName(final.Metric));
        Assert.Equal(new GaussianMixtureEntry().ReportMetrics, ReportOptions.DefaultMetricsFor(
            ExperimentSpec.Parse("""{ "name": "g", "global": { "model": "gmm" }, "estimators": [ { "estimator": "reinforce" } ] }""", "g.json", "g")));
    }

    [Fact]
    public void FiguresArePngFilesOnePerMetric()
    {
        using var directory = new TempDirectory();
        var runs = new List<CompletedRun>();
        foreach (var estimator in new[] { "ovis-gamma1", "reinforce" })
            foreach (var k in new[] { 2, 5, 20 })
                foreach (var seed in new[] { 1, 2 })
                    runs.Add(FakeRun(directory, estimator, k, seed, ("gmm/posterior_error", new[] { seed / (double)k }), ("loss/L_k", new[] { -100.0 / k, -90.0 / k })));
        var report = ExperimentReport.Build(runs, new ReportOptions(MetricSpec.ParseMany("gmm/posterior_error,loss/L_k")));
        foreach (var pivot in report.Pivots)
        {
            var path = directory.File("figures/" + ReportFigures.FileName(pivot.Metric));
            Assert.True(ReportFigures.Write(pivot, path, "iw"));
            var bytes = File.ReadAllBytes(path);
            Assert.True(bytes.Length > 5000, $"{path} is only {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }
        Assert.Equal(new[] { "gmm_posterior_error.png", "loss_L_k.png" }, Directory.GetFiles(directory.File("figures")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void ABadMetricsLineIsAnErrorNamingTheFileAndLine()
    {
        using var directory = new TempDirectory();
        var path = directory.File(RunDirectory.MetricsFile);
        File.WriteAllLines(path, new[] { "{\"step\": 1, \"a\": 1}", "", "[1, 2]" });
        var error = Assert.Throws<InvalidDataException>(() => MetricsFile.Read(path));
        Assert.StartsWith($"{path} line 3 must be a JSON object", error.Message);
    }
}
