using System.Globalization;

namespace Ovis.Reporting;

/// <summary>Tick positions and labels for log-scaled axes drawn as log10 values with labels in original units.</summary>
internal static class LogAxisTicks
{
    /// <summary>Above this many decades a log axis gets one tick per decade: 1-2-5 ticks would crowd its labels.</summary>
    private const double DecadesForOneTickEach = 2.5;

    /// <summary>
    /// Tick values (original units) for a log axis spanning log10 values [low, high]: one per decade over a wide span,
    /// else 1-2-5 per decade, or 1..9 when that gives fewer than three, or the two ends.
    /// </summary>
    public static double[] Values(double low, double high)
    {
        double[] Candidates(IEnumerable<int> mantissas) => Enumerable.Range((int)Math.Floor(low), (int)Math.Ceiling(high) - (int)Math.Floor(low) + 1)
            .SelectMany(e => mantissas.Select(m => m * Math.Pow(10, e)))
            .Where(v => Math.Log10(v) >= low - 1e-9 && Math.Log10(v) <= high + 1e-9).ToArray();
        if (high - low > DecadesForOneTickEach) return Candidates(new[] { 1 });
        var ticks = Candidates(new[] { 1, 2, 5 });
        if (ticks.Length >= 3) return ticks;
        ticks = Candidates(Enumerable.Range(1, 9));
        return ticks.Length >= 2 ? ticks : new[] { Math.Pow(10, low), Math.Pow(10, high) }; // less than one step of 1..9: label the ends
    }

    /// <summary>A tick's label: whole numbers from 1 up with thousands separators (5,000, not 5E+03), others to 3 significant digits.</summary>
    public static string Label(double value)
        => value >= 1 && value == Math.Round(value) ? value.ToString("#,0", CultureInfo.InvariantCulture) : value.ToString("G3", CultureInfo.InvariantCulture);
}
