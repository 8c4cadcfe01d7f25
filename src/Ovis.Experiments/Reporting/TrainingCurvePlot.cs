using ScottPlot;

using Ovis.Training;

namespace Ovis.Reporting;

/// <summary>
/// A PNG of training curves read from <c>metrics.jsonl</c>: the chosen metrics against the step on a log y-axis
/// (for the GMM, the posterior and prior errors of docs/experiments.md §2.2).
/// </summary>
public static class TrainingCurvePlot
{
    /// <summary>Plot <paramref name="keys"/> of the records in <paramref name="metricsPath"/> to <paramref name="pngPath"/>; returns the keys plotted.</summary>
    /// <param name="metricsPath">the run's metrics.jsonl.</param>
    /// <param name="pngPath">the figure written.</param>
    /// <param name="keys">the metrics drawn, one line each.</param>
    /// <param name="title">the figure's title.</param>
    /// <param name="width">width in pixels.</param>
    /// <param name="height">height in pixels.</param>
    /// <param name="logScale">log y-axis (positive values only, the GMM errors) or a linear one (the deep models' L_K, negative).</param>
    public static IReadOnlyList<string> Write(string metricsPath, string pngPath, IReadOnlyList<string> keys, string title, int width = 900, int height = 560,
                                              bool logScale = true)
    {
        if (!logScale) return WriteLinear(metricsPath, pngPath, keys, title, width, height);
        var records = TrainingSummary.ReadRecords(metricsPath);
        var plot = new Plot();
        var plotted = new List<string>();
        foreach (var key in keys)
        {
            var points = records.Where(r => r.metrics.TryGetValue(key, out var v) && double.IsFinite(v) && v > 0)
                                .Select(r => (x: (double)r.step, y: Math.Log10(r.metrics[key]))).ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => p.x).ToArray(), points.Select(p => p.y).ToArray());
            line.LegendText = key;
            line.MarkerSize = 3;
            plotted.Add(key);
        }
        if (plotted.Count == 0) throw new InvalidDataException($"{metricsPath} has no positive values of {string.Join(", ", keys)} to plot");
        // log y-axis: the data are log10 values, the ticks show powers of ten with minor ticks in between
        var tickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => $"1e{y:0}",
        };
        plot.Axes.Left.TickGenerator = tickGenerator;
        plot.Grid.MinorLineWidth = 1;
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("value (log scale)");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(pngPath, width, height);
        return plotted;
    }

    private static IReadOnlyList<string> WriteLinear(string metricsPath, string pngPath, IReadOnlyList<string> keys, string title, int width, int height)
    {
        var records = TrainingSummary.ReadRecords(metricsPath);
        var plot = new Plot();
        var plotted = new List<string>();
        foreach (var key in keys)
        {
            var points = records.Where(r => r.metrics.TryGetValue(key, out var v) && double.IsFinite(v)).ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => (double)p.step).ToArray(), points.Select(p => p.metrics[key]).ToArray());
            line.LegendText = key;
            line.MarkerSize = 3;
            plotted.Add(key);
        }
        if (plotted.Count == 0) throw new InvalidDataException($"{metricsPath} has no values of {string.Join(", ", keys)} to plot");
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("value");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(pngPath, width, height);
        return plotted;
    }
}
