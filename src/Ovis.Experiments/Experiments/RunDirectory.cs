using System.Text.Json;

namespace Ovis.Experiments;

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
