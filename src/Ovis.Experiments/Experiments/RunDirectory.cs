using System.Text.Json;
using Ovis.Training;

namespace Ovis.Experiments;

/// <summary>What a run's output directory holds when a worker is about to start an attempt.</summary>
public enum RunFolderState
{
    /// <summary>Nothing of a trainer's (a new run, or an attempt killed before its first checkpoint): start afresh.</summary>
    Fresh,
    /// <summary>A checkpoint of this very run: continue it with <c>--resume</c>.</summary>
    Resumable,
    /// <summary>A completed summary of this very run: record it as completed without training again.</summary>
    Completed,
    /// <summary>Another run's files (its arguments differ): refuse, so nothing of it is overwritten.</summary>
    Foreign,
}

/// <summary>
/// The files of one run's output directory, as the trainer contract defines them: <c>metrics.jsonl</c> (one JSON object
/// per evaluation, <c>{"step": n, "metric": value, ...}</c>), <c>summary.json</c> (<c>{"status": "completed", "metrics": {...}}</c>)
/// written last by a successful trainer, and the runner's own <c>args.json</c>, <c>stdout.log</c> and <c>stderr.log</c>.
/// </summary>
public static class RunDirectory
{
    /// <summary>The metrics series file.</summary>
    public const string MetricsFile = "metrics.jsonl";

    /// <summary>The final summary file.</summary>
    public const string SummaryFile = "summary.json";

    /// <summary>The run's arguments, written by the runner.</summary>
    public const string ArgumentsFile = "args.json";

    /// <summary>The directory of a run under an experiment's output root: the first 12 hex digits of its key.</summary>
    public static string For(string outRoot, RunDefinition run) => Path.Combine(outRoot, run.Key[..12]);

    /// <summary>
    /// Classify <paramref name="outDir"/> for an attempt at <paramref name="run"/>. The run's identity in the folder is
    /// the arguments file the runner writes before each attempt; a folder with trainer files but no arguments file (or
    /// one of another run) is <see cref="RunFolderState.Foreign"/>, and <paramref name="detail"/> says why.
    /// </summary>
    public static RunFolderState Inspect(string outDir, RunDefinition run, out string detail)
    {
        detail = "";
        var checkpoint = Path.Combine(outDir, Trainer.CheckpointFile);
        var summary = Path.Combine(outDir, SummaryFile);
        bool hasCheckpoint = File.Exists(checkpoint), hasSummary = File.Exists(summary);
        if (!hasCheckpoint && !hasSummary) return RunFolderState.Fresh;
        var arguments = Path.Combine(outDir, ArgumentsFile);
        string? storedKey = null;
        try
        {
            if (File.Exists(arguments)) storedKey = RunDefinition.FromJson(File.ReadAllText(arguments)).Key;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            detail = $"its {ArgumentsFile} is unreadable ({e.Message})";
            return RunFolderState.Foreign;
        }
        if (storedKey != run.Key)
        {
            detail = storedKey is null ? $"it holds a trainer's files but no {ArgumentsFile}" : $"its {ArgumentsFile} describes run {storedKey[..12]}, not {run.Key[..12]}";
            return RunFolderState.Foreign;
        }
        if (ReadCompletedSummary(outDir, out _) is not null) return RunFolderState.Completed;
        return hasCheckpoint ? RunFolderState.Resumable : RunFolderState.Fresh;
    }

    /// <summary>
    /// The summary of a completed run: the text of summary.json when it exists, is a JSON object and has
    /// <c>"status": "completed"</c>; otherwise null and the reason in <paramref name="problem"/>.
    /// </summary>
    public static string? ReadCompletedSummary(string outDir, out string problem)
    {
        var path = Path.Combine(outDir, SummaryFile);
        if (!File.Exists(path))
        {
            problem = $"the trainer wrote no {SummaryFile} in {outDir}";
            return null;
        }
        string text;
        try
        {
            text = File.ReadAllText(path);
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String)
            {
                problem = $"{path} has no \"status\" string";
                return null;
            }
            if (status.GetString() != "completed")
            {
                problem = $"{path} says status \"{status.GetString()}\", not \"completed\"";
                return null;
            }
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            problem = $"{path} is not readable JSON: {e.Message}";
            return null;
        }
        problem = "";
        return text;
    }
}
