using System.Text.Json;

namespace Ovis.Experiments;

/// <summary>How a run's series of evaluations of one metric becomes one number (docs/experiments.md §1.6).</summary>
public enum Reduction
{
    /// <summary>The smallest value over training (errors: the GMM posterior and prior errors).</summary>
    Min,
    /// <summary>The largest value over training (log-likelihood bounds: "max. log p̂(x)").</summary>
    Max,
    /// <summary>The average over all evaluations (gradient SNR and variance).</summary>
    Mean,
    /// <summary>The value at the last evaluation (KL, ESS, active units, anything else).</summary>
    Last,
}

/// <summary>A metric to report and its per-run reduction.</summary>
/// <param name="Name">the key in metrics.jsonl, e.g. <c>gmm/posterior_error</c>.</param>
/// <param name="Reduction">how the run's series is reduced.</param>
public sealed record MetricSpec(string Name, Reduction Reduction)
{
    /// <summary>
    /// The reduction docs/experiments.md §1.6 uses for a metric name: <c>min</c> for errors (names containing "error" or
    /// "mse"), <c>max</c> for log-likelihood bounds (L_k, elbo, log_likelihood, log_px), <c>mean</c> for gradient
    /// statistics (snr, variance, magnitude), <c>last</c> otherwise.
    /// </summary>
    public static Reduction DefaultReduction(string name)
    {
        var lower = name.ToLowerInvariant();
        var leaf = lower[(lower.LastIndexOfAny(new[] { '/', ':' }) + 1)..];
        if (leaf.Contains("error") || leaf.Contains("mse")) return Reduction.Min;
        if (leaf is "l_k" or "elbo" or "log_likelihood" or "log_px" || leaf.StartsWith("l_k", StringComparison.Ordinal)) return Reduction.Max;
        if (leaf.Contains("snr") || leaf.Contains("variance") || leaf.Contains("magnitude")) return Reduction.Mean;
        return Reduction.Last;
    }

    /// <summary>The prefixes a metric name may start with: the final evaluation, the held-out and training evaluations, the training batches.</summary>
    private static readonly string[] KnownPrefixes = { "final", "test", "train", "batch" };

    /// <summary>Parse <c>name</c> or <c>name:min|max|mean|last</c>; without a reduction the default for the name is used.</summary>
    public static MetricSpec Parse(string text)
    {
        var trimmed = text.Trim();
        int colon = trimmed.LastIndexOf(':');
        if (colon > 0 && Enum.TryParse<Reduction>(trimmed[(colon + 1)..], ignoreCase: true, out var reduction)
                      && !int.TryParse(trimmed[(colon + 1)..], out _))
            return new MetricSpec(trimmed[..colon], reduction);
        if (trimmed.Length == 0) throw new ArgumentException("a metric name is empty; give names such as gmm/posterior_error or gmm/posterior_error:min");
        // A metric name is prefixes (final:, test:, train:, batch:) and a key; a word after a colon that does not follow
        // prefixes only is meant as a reduction, so an unknown one is an error rather than part of the name.
        if (colon > 0 && trimmed[(colon + 1)..] is { Length: > 0 } suffix && suffix.All(char.IsLetter)
            && !trimmed[..colon].Split(':').All(part => KnownPrefixes.Contains(part)))
            throw new ArgumentException($"'{trimmed}': '{suffix}' is not a reduction; use min, max, mean or last (e.g. {trimmed[..colon]}:max)");
        return new MetricSpec(trimmed, DefaultReduction(trimmed));
    }

    /// <summary>Parse a comma-separated list of metric specs; the same metric with the same reduction twice is refused.</summary>
    public static IReadOnlyList<MetricSpec> ParseMany(string text)
    {
        var specs = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).ToArray();
        if (specs.Length == 0) throw new ArgumentException("--metrics names no metric; give names such as test:loss/L_k:max");
        var repeated = specs.GroupBy(s => s).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null) throw new ArgumentException($"--metrics names {repeated.Key.Label} twice");
        return specs;
    }

    /// <summary>Reduce a run's series (in step order); throws if it is empty.</summary>
    public double Reduce(IReadOnlyList<double> series)
    {
        if (series.Count == 0) throw new ArgumentException($"metric {Name} has no values to reduce");
        return Reduction switch
        {
            Reduction.Min => series.Min(),
            Reduction.Max => series.Max(),
            Reduction.Mean => series.Average(),
            _ => series[^1],
        };
    }

    /// <summary>A label such as <c>min gmm/posterior_error</c>.</summary>
    public string Label => $"{Reduction.ToString().ToLowerInvariant()} {Name}";
}

/// <summary>Reads a run's metrics.jsonl: one JSON object per line, <c>{"step": n, "metric": value, ...}</c>.</summary>
public static class MetricsFile
{
    /// <summary>Metric names with this prefix are read from the run's final evaluation (summary.json) instead of metrics.jsonl.</summary>
    public const string FinalPrefix = "final:";

    /// <summary>
    /// The numbers of the <c>final_evaluation</c> object of a trainer's summary.json (e.g. <c>test:loss/L_k</c> of the
    /// final L_5000 evaluation), keyed with <see cref="FinalPrefix"/>; empty when the run made no final evaluation.
    /// </summary>
    public static IReadOnlyDictionary<string, List<double>> ReadFinalEvaluation(string summaryPath)
    {
        var series = new Dictionary<string, List<double>>();
        if (!File.Exists(summaryPath)) return series;
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllText(summaryPath)); }
        catch (JsonException e) { throw new InvalidDataException($"{summaryPath} is not JSON: {e.Message}"); }
        using (document)
        {
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("final_evaluation", out var final) && final.ValueKind == JsonValueKind.Object)
                foreach (var property in final.EnumerateObject())
                    if (property.Value.ValueKind == JsonValueKind.Number)
                        series[FinalPrefix + property.Name] = new List<double> { property.Value.GetDouble() };
        }
        return series;
    }

    /// <summary>
    /// Every numeric metric's series in file order (the key <c>step</c> is the x-axis, not a metric; nulls and
    /// non-numbers are skipped). A line that is not a JSON object is an error naming the file and line.
    /// </summary>
    public static IReadOnlyDictionary<string, List<double>> Read(string path)
    {
        var series = new Dictionary<string, List<double>>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument document;
            try { document = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new InvalidDataException($"{path} line {lineNumber} is not JSON: {e.Message}"); }
            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{path} line {lineNumber} must be a JSON object such as {{\"step\": 1000, \"loss/L_k\": -90.1}}");
                // Metrics stand either at the top level or, as ovis train writes them, in a nested "metrics" object.
                var properties = document.RootElement.EnumerateObject().ToList();
                if (document.RootElement.TryGetProperty("metrics", out var nested) && nested.ValueKind == JsonValueKind.Object)
                    properties.AddRange(nested.EnumerateObject());
                foreach (var property in properties)
                {
                    if (property.Name == "step" || property.Value.ValueKind != JsonValueKind.Number) continue;
                    if (!series.TryGetValue(property.Name, out var values)) series[property.Name] = values = new List<double>();
                    values.Add(property.Value.GetDouble());
                }
            }
        }
        return series;
    }
}
