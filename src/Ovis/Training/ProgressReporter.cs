using System.Diagnostics;
using System.Globalization;

namespace Ovis.Training;

/// <summary>
/// Training progress for a person watching: on a terminal a live single-line bar rewritten in place; when the output
/// is redirected (a log file, the experiment runner) plain lines at most every <see cref="LineInterval"/>.
/// </summary>
public sealed class ProgressReporter
{
    private readonly TextWriter output;
    private readonly bool interactive;
    private readonly long totalSteps;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private TimeSpan lastPrinted = TimeSpan.MinValue;
    private long startStep = -1;

    /// <summary>Minimum time between two plain progress lines.</summary>
    public static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);

    /// <summary>Create a reporter writing to <paramref name="output"/>; <paramref name="interactive"/> selects the live bar.</summary>
    public ProgressReporter(TextWriter output, bool interactive, long totalSteps)
    {
        this.output = output;
        this.interactive = interactive;
        this.totalSteps = totalSteps;
    }

    /// <summary>Steps per second since the first report of this session.</summary>
    public double StepsPerSecond(long step)
        => startStep < 0 || clock.Elapsed.TotalSeconds <= 0 ? 0 : (step - startStep) / clock.Elapsed.TotalSeconds;

    /// <summary>Report that <paramref name="step"/> steps are done; <paramref name="note"/> is a short metric summary.</summary>
    public void Report(long step, string note, bool force = false)
    {
        if (startStep < 0) { startStep = step; clock.Restart(); }
        var now = clock.Elapsed;
        var interval = interactive ? TimeSpan.FromMilliseconds(200) : LineInterval;
        if (!force && now - lastPrinted < interval) return;
        lastPrinted = now;
        double rate = StepsPerSecond(step);
        double fraction = totalSteps == 0 ? 1 : (double)step / totalSteps;
        string eta = rate > 0 ? TimeSpan.FromSeconds((totalSteps - step) / rate).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--";
        string text = string.Create(CultureInfo.InvariantCulture, $"step {step}/{totalSteps} ({fraction:P0}) {rate:F0} steps/s eta {eta} {note}");
        if (interactive)
        {
            const int width = 24;
            int filled = (int)Math.Round(fraction * width);
            var line = "[" + new string('#', filled) + new string('.', width - filled) + "] " + text;
            int columns = 120;
            try { if (Console.WindowWidth > 10) columns = Console.WindowWidth - 1; } catch (IOException) { }
            if (line.Length > columns) line = line[..columns];
            output.Write("\r" + line.PadRight(columns));
            if (step >= totalSteps) output.WriteLine();
        }
        else output.WriteLine(text);
        output.Flush();
    }
}
