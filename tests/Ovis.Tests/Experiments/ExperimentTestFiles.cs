using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

/// <summary>The fake trainer script (fake-trainer.sh) and the log of what it did.</summary>
public sealed class FakeTrainer
{
    /// <summary>Use the script with its start/done log at <paramref name="logPath"/>.</summary>
    public FakeTrainer(string logPath) => LogPath = logPath;

    /// <summary>The script copied next to the test assembly.</summary>
    public static string Script => Path.Combine(AppContext.BaseDirectory, "Experiments", "fake-trainer.sh");

    /// <summary>The log: lines "start DIR" and "done DIR".</summary>
    public string LogPath { get; }

    /// <summary>The command line for <see cref="TrainerCommand.EnvironmentVariable"/>.</summary>
    public string CommandLine => $"bash '{Script}' '{LogPath}'";

    /// <summary>The trainer command.</summary>
    public TrainerCommand Command => TrainerCommand.Parse(CommandLine);

    /// <summary>How many times the trainer started / finished in each run directory.</summary>
    public (Dictionary<string, int> Starts, Dictionary<string, int> Completions) Counts()
    {
        var starts = new Dictionary<string, int>();
        var completions = new Dictionary<string, int>();
        if (!File.Exists(LogPath)) return (starts, completions);
        foreach (var line in File.ReadAllLines(LogPath))
        {
            var parts = line.Split(' ', 2);
            var target = parts[0] == "start" ? starts : parts[0] == "done" ? completions : throw new InvalidDataException($"bad fake trainer log line '{line}'");
            target[parts[1]] = target.GetValueOrDefault(parts[1]) + 1;
        }
        return (starts, completions);
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
