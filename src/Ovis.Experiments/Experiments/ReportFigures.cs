using System.Globalization;
using ScottPlot;

namespace Ovis.Experiments;

/// <summary>
/// PNG figures of a <see cref="MetricPivot"/> in the style of paper Figure 2: the metric against K, one line per
/// estimator with markers at each K and a shaded band of ±0.5·std over seeds. Axes are logarithmic (base 10, labelled
/// in the original units) when all plotted values are positive, as in the paper's log–log panels.
/// </summary>
public static class ReportFigures
{
    /// <summary>Figure width in pixels.</summary>
    public const int Width = 900;

    /// <summary>Figure height in pixels.</summary>
    public const int Height = 560;

    /// <summary>A file name for a metric's figure, e.g. <c>gmm_posterior_error.png</c>.</summary>
    public static string FileName(MetricSpec metric)
        => new string(metric.Name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray()) + ".png";

    /// <summary>
    /// The file name of <paramref name="metric"/>'s figure in a report of <paramref name="metrics"/>: <see cref="FileName(MetricSpec)"/>,
    /// with the reduction added when the same metric is reported with several reductions (so that no figure overwrites another).
    /// </summary>
    public static string FileName(MetricSpec metric, IReadOnlyList<MetricSpec> metrics)
        => metrics.Count(m => m.Name == metric.Name) > 1
            ? Path.GetFileNameWithoutExtension(FileName(metric)) + "_" + metric.Reduction.ToString().ToLowerInvariant() + ".png"
            : FileName(metric);

    /// <summary>Draw the pivot against its numeric columns and save it; returns false (no file) when the columns are not numbers.</summary>
    public static bool Write(MetricPivot pivot, string path, string columnArgument)
    {
        if (pivot.Columns.Any(c => c.AsNumber() is null)) return false;
        var cells = pivot.Cells.Values.ToArray();
        bool logX = pivot.Columns.All(c => c.AsNumber() > 0);
        bool logY = cells.All(c => c.Mean > 0);
        // a band edge at or below zero cannot be drawn on a log axis: clip it to a tenth of the smallest positive mean
        double floor = logY ? cells.Min(c => c.Mean) / 10 : double.NegativeInfinity;
        double X(double v) => logX ? Math.Log10(v) : v;
        double Y(double v) => logY ? Math.Log10(Math.Max(v, floor)) : v;

        var plot = new Plot();
        var plotted = new List<double>();
        var palette = new ScottPlot.Palettes.Category10();
        int series = 0;
        foreach (var row in pivot.Rows)
        {
            var points = pivot.Columns
                .Where(c => pivot.Cells.ContainsKey((row, c.Value)))
                .Select(c => (X: c.AsNumber()!.Value, Cell: pivot.Cells[(row, c.Value)])).ToArray();
            if (points.Length == 0) continue;
            var xs = points.Select(p => X(p.X)).ToArray();
            var line = plot.Add.Scatter(xs, points.Select(p => Y(p.Cell.Mean)).ToArray());
            plotted.AddRange(points.SelectMany(p => new[] { Y(p.Cell.Lower), Y(p.Cell.Upper) }));
            line.LegendText = row;
            line.Color = palette.GetColor(series++); // explicit: the bands must not use up palette colours
            line.LineWidth = 2;
            line.MarkerSize = 7;
            if (points.Any(p => p.Cell.StandardDeviation > 0))
            {
                var band = plot.Add.FillY(xs, points.Select(p => Y(p.Cell.Lower)).ToArray(), points.Select(p => Y(p.Cell.Upper)).ToArray());
                band.FillStyle.Color = line.Color.WithAlpha(0.2);
                band.LineStyle.Width = 0;
            }
        }
        plot.Title($"{pivot.Metric.Label} (mean ± 0.5 std over seeds)");
        plot.XLabel(columnArgument == "iw" ? "K (particles)" : columnArgument);
        plot.YLabel(pivot.Metric.Label);
        var columnValues = pivot.Columns.Select(c => c.AsNumber()!.Value).ToArray();
        plot.Axes.Bottom.SetTicks(columnValues.Select(X).ToArray(), columnValues.Select(Ovis.Reporting.LogAxisTicks.Label).ToArray());
        if (logY)
        {
            var ticks = Ovis.Reporting.LogAxisTicks.Values(plotted.Min(), plotted.Max());
            plot.Axes.Left.SetTicks(ticks.Select(Math.Log10).ToArray(), ticks.Select(Ovis.Reporting.LogAxisTicks.Label).ToArray());
        }
        plot.ShowLegend(Edge.Right);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        plot.SavePng(path, Width, Height);
        return true;
    }
}
