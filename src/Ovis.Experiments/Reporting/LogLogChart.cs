using System.Globalization;
using ScottPlot;

namespace Ovis.Reporting;

/// <summary>One named line of a chart: x and y values (positive for log axes).</summary>
/// <param name="Name">legend text.</param>
/// <param name="X">x values.</param>
/// <param name="Y">y values.</param>
internal sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>
/// A log–log line chart saved as PNG with ScottPlot: the axes carry log10 values with ticks labelled in original
/// units (1-2-5 per decade), the form of the paper's SNR, memory and time figures.
/// </summary>
internal static class LogLogChart
{
    /// <summary>Draw the series (non-positive points are dropped) and save a PNG of the given size.</summary>
    public static void Save(string path, string title, string xLabel, string yLabel, IEnumerable<ChartSeries> series, int width = 800, int height = 520)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var xs = new List<double>();
        var ys = new List<double>();
        int index = 0;
        foreach (var s in series)
        {
            var points = s.X.Zip(s.Y).Where(p => p.First > 0 && p.Second > 0 && double.IsFinite(p.Second)).ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => Math.Log10(p.First)).ToArray(), points.Select(p => Math.Log10(p.Second)).ToArray());
            line.LegendText = s.Name;
            line.Color = palette.GetColor(index++);
            line.LineWidth = 2;
            line.MarkerSize = 6;
            xs.AddRange(points.Select(p => p.First));
            ys.AddRange(points.Select(p => p.Second));
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (xs.Count > 0)
        {
            SetTicks(plot.Axes.Bottom, xs.Min(), xs.Max());
            SetTicks(plot.Axes.Left, ys.Min(), ys.Max());
        }
        plot.ShowLegend(Edge.Right);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        plot.SavePng(path, width, height);
    }

    private static void SetTicks(ScottPlot.IAxis axis, double low, double high)
    {
        var ticks = LogAxisTicks.Values(Math.Log10(low), Math.Log10(high));
        axis.SetTicks(ticks.Select(Math.Log10).ToArray(), ticks.Select(LogAxisTicks.Label).ToArray());
    }
}
