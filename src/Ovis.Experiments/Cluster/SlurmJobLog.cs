using System.Text.Json;

namespace Ovis.Experiments.Cluster;

/// <summary>The record of an experiment's submitted jobs: <c>OUT/slurm/jobs.jsonl</c>, one line per submission.</summary>
public static class SlurmJobLog
{
    /// <summary>The folder of the job scripts, the tasks' output and the job record, under an experiment's output root.</summary>
    public static string Directory(string outRoot) => Path.Combine(outRoot, "slurm");

    private static string File(string outRoot) => Path.Combine(Directory(outRoot), "jobs.jsonl");

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Append a submission.</summary>
    public static void Append(string outRoot, SlurmSubmission submission)
    {
        System.IO.Directory.CreateDirectory(Directory(outRoot));
        System.IO.File.AppendAllText(File(outRoot), JsonSerializer.Serialize(submission, Json) + "\n");
    }

    /// <summary>The submissions of <paramref name="experiment"/>, oldest first.</summary>
    public static IReadOnlyList<SlurmSubmission> Read(string outRoot, string experiment)
    {
        var path = File(outRoot);
        if (!System.IO.File.Exists(path)) return Array.Empty<SlurmSubmission>();
        return System.IO.File.ReadAllLines(path).Where(l => l.Trim().Length > 0)
            .Select(l => JsonSerializer.Deserialize<SlurmSubmission>(l, Json)!)
            .Where(s => s.Experiment == experiment).ToArray();
    }
}
