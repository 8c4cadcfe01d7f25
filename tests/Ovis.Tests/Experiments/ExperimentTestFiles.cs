using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

/// <summary>The fake trainer script (fake-trainer.sh) and the log of what it did.</summary>
public sealed class FakeTrainer
{
    /// <summary>Use the script with its start/done log at <paramref name="logPath"/>.</summary>
    /// <param name="logPath">the log.</param>
    /// <param name="instant">use instant-trainer.sh (one sh process per run, no metrics, no resume) instead of fake-trainer.sh.</param>
    public FakeTrainer(string logPath, bool instant = false)
    {
        LogPath = logPath;
        Script = Path.Combine(AppContext.BaseDirectory, "Experiments", instant ? "instant-trainer.sh" : "fake-trainer.sh");
    }

    /// <summary>The script copied next to the test assembly.</summary>
    public string Script { get; }

    /// <summary>The log: lines "start DIR", "resume DIR STEP", "stopped DIR STEP" and "done DIR".</summary>
    public string LogPath { get; }

    /// <summary>The command line for <see cref="TrainerCommand.EnvironmentVariable"/>.</summary>
    public string CommandLine => Script.EndsWith("instant-trainer.sh", StringComparison.Ordinal) ? $"sh '{Script}' '{LogPath}'" : $"bash '{Script}' '{LogPath}'";

    /// <summary>The trainer command.</summary>
    public TrainerCommand Command => TrainerCommand.Parse(CommandLine);

    /// <summary>How many times the trainer started afresh / finished in each run directory.</summary>
    public (Dictionary<string, int> Starts, Dictionary<string, int> Completions) Counts()
    {
        var events = Events();
        return (events.Where(e => e.Kind == "start").GroupBy(e => e.Directory).ToDictionary(g => g.Key, g => g.Count()),
                events.Where(e => e.Kind == "done").GroupBy(e => e.Directory).ToDictionary(g => g.Key, g => g.Count()));
    }

    /// <summary>Every line of the log as (kind, run directory, step; −1 where the line has none).</summary>
    public IReadOnlyList<(string Kind, string Directory, long Step)> Events()
    {
        if (!File.Exists(LogPath)) return Array.Empty<(string, string, long)>();
        return File.ReadAllLines(LogPath).Where(l => l.Length > 0).Select(line =>
        {
            var parts = line.Split(' ');
            if (parts[0] is not ("start" or "resume" or "stopped" or "done")) throw new InvalidDataException($"bad fake trainer log line '{line}'");
            return (parts[0], parts[1], parts.Length > 2 ? long.Parse(parts[2]) : -1L);
        }).ToArray();
    }
}

/// <summary>Locations in the repository.</summary>
public static class RepositoryFiles
{
    /// <summary>The repository root (the folder holding Ovis.slnx).</summary>
    public static string Root
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
                if (File.Exists(Path.Combine(directory.FullName, "Ovis.slnx"))) return directory.FullName;
            throw new DirectoryNotFoundException("the repository root (Ovis.slnx) is not above the test assembly");
        }
    }
}
