using Ovis.Analysis;
using Ovis.Studies;
using ScottPlot;

namespace Ovis.Reporting;

/// <summary>
/// The four log–log panels of the paper's Figure 1 (docs/experiments.md §2.1 "Outputs"): (1/D)Σ SNR_i, (1/D)Σ DSNR_i,
/// (1/D)Σ Var[g_i] and (1/D)Σ|E g_i| against K, one line per estimator, with dotted guides ∝ √K and ∝ 1/√K.
/// ScottPlot has no logarithmic axis type, so log10 values are plotted with power-of-ten tick labels.
/// </summary>
public static class AsymptoticFigure
{
    private static readonly (string title, Func<GradientStatistics, double> value)[] Panels =
    {
        ("(1/D) Σ SNR", s => s.MeanSnr),
        ("(1/D) Σ DSNR", s => s.DirectionalSnr),
        ("(1/D) Σ Var[g]", s => s.MeanVariance),
        ("(1/D) Σ |E g|", s => s.Magnitude),
    };

    /// <summary>Write the 2×2 panel figure to <paramref name="path"/> (PNG).</summary>
    public static void Save(IReadOnlyList<AsymptoticStudyRow> rows, string path, int width = 1400, int height = 1000)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(Panels.Length);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, 2);
        var estimators = rows.Select(r => r.Estimator).Distinct().ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        for (int p = 0; p < Panels.Length; p++)
        {
            var plot = multiplot.GetPlot(p);
            var (title, value) = Panels[p];
            plot.Title(title);
            plot.XLabel("K");
            var allLogs = new List<double>();
            for (int e = 0; e < estimators.Length; e++)
            {
                var points = rows.Where(r => r.Estimator == estimators[e])
                    .Select(r => (k: (double)r.Particles, y: value(r.Statistics)))
                    .Where(t => t.y > 0 && double.IsFinite(t.y)).OrderBy(t => t.k).ToArray();
                if (points.Length == 0) continue;
                var xs = points.Select(t => Math.Log10(t.k)).ToArray();
                var ys = points.Select(t => Math.Log10(t.y)).ToArray();
                allLogs.AddRange(ys);
                var line = plot.Add.Scatter(xs, ys, palette.GetColor(e));
                line.LegendText = estimators[e];
                line.LineWidth = 2;
                line.MarkerSize = 7;
            }
            AddGuides(plot, rows, allLogs);
            LogTicks(plot);
            plot.ShowLegend(Edge.Right);
        }
        multiplot.SavePng(path, width, height);
    }

    /// <summary>Dotted guide lines ∝ √K and ∝ 1/√K through the middle of the panel's values.</summary>
    private static void AddGuides(Plot plot, IReadOnlyList<AsymptoticStudyRow> rows, List<double> logs)
    {
        if (logs.Count == 0) return;
        double kMin = rows.Min(r => r.Particles), kMax = rows.Max(r => r.Particles);
        double centreK = 0.5 * (Math.Log10(kMin) + Math.Log10(kMax));
        double centreY = 0.5 * (logs.Min() + logs.Max());
        foreach (var (slope, label) in new[] { (0.5, "∝ √K"), (-0.5, "∝ 1/√K") })
        {
            double[] xs = { Math.Log10(kMin), Math.Log10(kMax) };
            double[] ys = xs.Select(x => centreY + slope * (x - centreK)).ToArray();
            var guide = plot.Add.Scatter(xs, ys, Colors.Gray);
            guide.LinePattern = LinePattern.Dotted;
            guide.MarkerSize = 0;
            guide.LegendText = label;
        }
    }

    private static void LogTicks(Plot plot)
    {
        static string PowerOfTen(double log) => Math.Pow(10, log).ToString("G3", System.Globalization.CultureInfo.InvariantCulture);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = PowerOfTen,
        };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = PowerOfTen,
        };
    }
}
