namespace Ovis.Reporting;

/// <summary>Tick positions for log-scaled axes drawn as log10 values with labels in original units.</summary>
internal static class LogAxisTicks
{
    /// <summary>Tick values (original units) for a log axis spanning log10 values [low, high]: 1-2-5 per decade, or 1..9 when that gives fewer than three, or the two ends.</summary>
    public static double[] Values(double low, double high)
    {
        double[] Candidates(IEnumerable<int> mantissas) => Enumerable.Range((int)Math.Floor(low), (int)Math.Ceiling(high) - (int)Math.Floor(low) + 1)
            .SelectMany(e => mantissas.Select(m => m * Math.Pow(10, e)))
            .Where(v => Math.Log10(v) >= low - 1e-9 && Math.Log10(v) <= high + 1e-9).ToArray();
        var ticks = Candidates(new[] { 1, 2, 5 });
        if (ticks.Length >= 3) return ticks;
        ticks = Candidates(Enumerable.Range(1, 9));
        return ticks.Length >= 2 ? ticks : new[] { Math.Pow(10, low), Math.Pow(10, high) }; // less than one step of 1..9: label the ends
    }
}
