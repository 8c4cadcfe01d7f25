using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ovis.Training;

/// <summary>
/// What a finished (or failed) run reports in <c>DIR/summary.json</c>, the contract read by the experiment runner:
/// status, steps, wall time and speed, and per metric its final, minimum, maximum and mean over the evaluations.
/// </summary>
public sealed record TrainingSummary
{
    /// <summary>One of <see cref="TrainingStatus"/>'s values.</summary>
    public string Status { get; init; } = TrainingStatus.Completed;
    /// <summary>The error message of a failed run.</summary>
    public string? Error { get; init; }
    /// <summary>The model name.</summary>
    public string Model { get; init; } = "";
    /// <summary>The estimator id.</summary>
    public string Estimator { get; init; } = "";
    /// <summary>The run's seed.</summary>
    public ulong Seed { get; init; }
    /// <summary>Steps completed.</summary>
    public long Steps { get; init; }
    /// <summary>Training wall time in seconds, summed over resumed sessions.</summary>
    public double ElapsedSeconds { get; init; }
    /// <summary>Steps per second of the last session (evaluations included).</summary>
    public double StepsPerSecond { get; init; }
    /// <summary>Steps per second of process CPU time in the last session (evaluations included): the speed with the
    /// wait for a shared CPU taken out.</summary>
    public double StepsPerCpuSecond { get; init; }
    /// <summary>Number of evaluation records.</summary>
    public int Evaluations { get; init; }
    /// <summary>Metrics of the last evaluation.</summary>
    public Dictionary<string, double?> Final { get; init; } = new();
    /// <summary>Minimum over the evaluations, per metric.</summary>
    public Dictionary<string, double?> Min { get; init; } = new();
    /// <summary>Maximum over the evaluations, per metric.</summary>
    public Dictionary<string, double?> Max { get; init; } = new();
    /// <summary>Mean over the evaluations, per metric (e.g. the training-average SNR of docs/experiments.md §1.6).</summary>
    public Dictionary<string, double?> Mean { get; init; } = new();
    /// <summary>
    /// The deep models' final test evaluation (L_K at final-eval-iw particles on final-eval-points test points, its
    /// standard error, ELBO, KL(q‖p) and ESS), or null.
    /// </summary>
    public Dictionary<string, double>? FinalEvaluation { get; init; }
    /// <summary>Why TensorBoard files are missing, or null.</summary>
    public string? TensorBoardError { get; init; }

    /// <summary>JSON options of summary.json.</summary>
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Read the evaluation records of a metrics.jsonl file as (step, metrics) pairs; null values become NaN.</summary>
    public static IReadOnlyList<(long step, Dictionary<string, double> metrics)> ReadRecords(string path)
    {
        var records = new List<(long, Dictionary<string, double>)>();
        if (!File.Exists(path)) return records;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var node = JsonNode.Parse(line)!.AsObject();
            var metrics = new Dictionary<string, double>();
            foreach (var (key, value) in node["metrics"]!.AsObject())
                metrics[key] = value is null ? double.NaN : value.GetValue<double>();
            records.Add((node["step"]!.GetValue<long>(), metrics));
        }
        return records;
    }

    /// <summary>Fill Final, Min and Max from the records of metrics.jsonl.</summary>
    public TrainingSummary WithMetrics(IReadOnlyList<(long step, Dictionary<string, double> metrics)> records)
    {
        static double? Finite(double v) => double.IsFinite(v) ? v : null;
        var final = records.Count == 0 ? new Dictionary<string, double?>() : records[^1].metrics.ToDictionary(p => p.Key, p => Finite(p.Value));
        var keys = records.SelectMany(r => r.metrics.Keys).Distinct().ToArray();
        var min = new Dictionary<string, double?>();
        var max = new Dictionary<string, double?>();
        var mean = new Dictionary<string, double?>();
        foreach (var key in keys)
        {
            var values = records.Where(r => r.metrics.TryGetValue(key, out var v) && double.IsFinite(v)).Select(r => r.metrics[key]).ToArray();
            min[key] = values.Length == 0 ? null : values.Min();
            max[key] = values.Length == 0 ? null : values.Max();
            mean[key] = values.Length == 0 ? null : values.Average();
        }
        return this with { Final = final, Min = min, Max = max, Mean = mean, Evaluations = records.Count };
    }

    /// <summary>Write summary.json atomically.</summary>
    public void Write(string path)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json));
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>The statuses a run's summary.json can hold.</summary>
public static class TrainingStatus
{
    /// <summary>Every step ran and the final evaluation was written.</summary>
    public const string Completed = "completed";
    /// <summary>Stopped on request at a step boundary, with a checkpoint to resume from.</summary>
    public const string Stopped = "stopped";
    /// <summary>A non-finite loss, log-weight or parameter ended the run (the error names the step and the quantity).</summary>
    public const string Diverged = "diverged";
    /// <summary>An error ended the run (the error says which).</summary>
    public const string Failed = "failed";
}
