using System.Globalization;
using System.Text;
using Ovis.Catalog;
using Ovis.Training;

namespace Ovis.Experiments;

/// <summary>What a report shows.</summary>
/// <param name="Metrics">the metrics, each with its per-run reduction.</param>
/// <param name="ColumnArgument">the argument along the columns and the figures' x-axis (K: <c>iw</c>).</param>
/// <param name="SeedArgument">the argument averaged over (<c>seed</c>).</param>
public sealed record ReportOptions(IReadOnlyList<MetricSpec> Metrics, string ColumnArgument = "iw", string SeedArgument = "seed")
{
    /// <summary>
    /// The default metrics for the runs of <paramref name="spec"/>: those of its models' catalog entries
    /// (<see cref="ModelEntry.ReportMetrics"/>), in the order the models first appear; runs without a model argument
    /// train the trainer's default model.
    /// </summary>
    public static string DefaultMetricsFor(ExperimentSpec spec)
    {
        var models = spec.Expand().Select(r => r.Get("model") ?? new TrainingConfiguration().Model).Distinct();
        return string.Join(",", models.SelectMany(m => ModelCatalog.Get(m).ReportMetrics.Split(',')).Distinct());
    }
}

/// <summary>One table cell: a metric's per-run reductions aggregated over seeds.</summary>
/// <param name="Mean">the mean over seeds.</param>
/// <param name="StandardDeviation">the sample standard deviation over seeds (0 for one seed).</param>
/// <param name="Count">how many runs (seeds) contributed.</param>
public sealed record CellStatistics(double Mean, double StandardDeviation, int Count)
{
    /// <summary>The lower edge of the band plotted in the paper's figures: mean − 0.5·std (docs/experiments.md §1.6).</summary>
    public double Lower => Mean - 0.5 * StandardDeviation;

    /// <summary>The upper edge of the band: mean + 0.5·std.</summary>
    public double Upper => Mean + 0.5 * StandardDeviation;

    /// <summary>Aggregate values over seeds.</summary>
    public static CellStatistics Of(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        double std = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return new CellStatistics(mean, std, values.Count);
    }
}

/// <summary>One metric's pivot: rows (estimator settings) × columns (K) of cells.</summary>
/// <param name="Metric">the metric and its reduction.</param>
/// <param name="Rows">row labels in grid order.</param>
/// <param name="Columns">column values, numerically sorted when numeric.</param>
/// <param name="Cells">the cells by (row, column); absent when no run had the metric.</param>
public sealed record MetricPivot(MetricSpec Metric, IReadOnlyList<string> Rows, IReadOnlyList<RunArgument> Columns,
    IReadOnlyDictionary<(string Row, string Column), CellStatistics> Cells);

/// <summary>A completed run and its output directory, the input of a report.</summary>
/// <param name="Definition">its arguments.</param>
/// <param name="OutDir">where its metrics.jsonl is.</param>
public sealed record CompletedRun(RunDefinition Definition, string OutDir);

/// <summary>
/// Builds the report of an experiment (docs/experiments.md §1.6): each completed run's metrics.jsonl series is reduced per
/// metric (min, max, mean or last), the reductions are aggregated over seeds (mean, band ±0.5·std), and the result is
/// pivoted with the estimator settings as rows and K as columns. Rows are labelled by the arguments, other than the
/// column and the seed, whose values differ between runs.
/// </summary>
public sealed class ExperimentReport
{
    private ExperimentReport(IReadOnlyList<MetricPivot> pivots, IReadOnlyList<string> rowArguments, int runs, IReadOnlyList<string> missingMetrics)
    {
        Pivots = pivots;
        RowArguments = rowArguments;
        Runs = runs;
        MissingMetrics = missingMetrics;
    }

    /// <summary>One pivot per requested metric that at least one run has.</summary>
    public IReadOnlyList<MetricPivot> Pivots { get; }

    /// <summary>The arguments that label rows.</summary>
    public IReadOnlyList<string> RowArguments { get; }

    /// <summary>How many completed runs were read.</summary>
    public int Runs { get; }

    /// <summary>Requested metrics that no run has.</summary>
    public IReadOnlyList<string> MissingMetrics { get; }

    /// <summary>Read every run's metrics and aggregate them.</summary>
    public static ExperimentReport Build(IReadOnlyList<CompletedRun> runs, ReportOptions options)
    {
        if (options.Metrics.Count == 0) throw new ArgumentException("a report needs at least one metric, e.g. --metrics gmm/posterior_error:min");
        var definitions = runs.Select(r => r.Definition).ToArray();
        // rows: the estimator (always, when runs name one) and every other argument that varies, except the column and the seed
        var rowArguments = ExperimentRunner.VaryingArguments(definitions)
            .Prepend(definitions.Any(d => d.Get(ExperimentSpec.EstimatorArgument) is not null) ? ExperimentSpec.EstimatorArgument : null)
            .OfType<string>().Distinct()
            .Where(name => name != options.ColumnArgument && name != options.SeedArgument).ToArray();
        string RowOf(RunDefinition run) => rowArguments.Length == 0 ? "all runs"
            : string.Join(" ", rowArguments.Select(name => name == ExperimentSpec.EstimatorArgument && run.Get(name) is { } id ? id
                : $"{name}={run.Get(name) ?? "-"}"));
        string ColumnOf(RunDefinition run) => run.Get(options.ColumnArgument) ?? "-";

        var rows = definitions.Select(RowOf).Distinct().ToArray();
        var columns = definitions.Select(r => r.Find(options.ColumnArgument) ?? new RunArgument(options.ColumnArgument, "-", System.Text.Json.JsonValueKind.String))
            .DistinctBy(a => a.Value).ToList();
        if (columns.All(c => c.AsNumber() is not null)) columns = columns.OrderBy(c => c.AsNumber()).ToList();

        var reduced = options.Metrics.ToDictionary(m => m, _ => new Dictionary<(string, string), List<double>>());
        foreach (var run in runs)
        {
            var path = Path.Combine(run.OutDir, RunDirectory.MetricsFile);
            if (!File.Exists(path)) throw new FileNotFoundException($"completed run {run.Definition.Describe()} has no {path}");
            var series = new Dictionary<string, List<double>>(MetricsFile.Read(path));
            if (options.Metrics.Any(m => m.Name.StartsWith(MetricsFile.FinalPrefix, StringComparison.Ordinal)))
                foreach (var (name, values) in MetricsFile.ReadFinalEvaluation(Path.Combine(run.OutDir, RunDirectory.SummaryFile)))
                    series[name] = values;
            foreach (var metric in options.Metrics)
            {
                if (!series.TryGetValue(metric.Name, out var values) || values.Count == 0) continue;
                var key = (RowOf(run.Definition), ColumnOf(run.Definition));
                if (!reduced[metric].TryGetValue(key, out var list)) reduced[metric][key] = list = new List<double>();
                list.Add(metric.Reduce(values));
            }
        }
        var pivots = options.Metrics.Where(m => reduced[m].Count > 0)
            .Select(m => new MetricPivot(m, rows, columns, reduced[m].ToDictionary(kv => kv.Key, kv => CellStatistics.Of(kv.Value)))).ToArray();
        var missing = options.Metrics.Where(m => reduced[m].Count == 0).Select(m => m.Name).ToArray();
        return new ExperimentReport(pivots, rowArguments, runs.Count, missing);
    }

    /// <summary>
    /// The markdown report: a header with the experiment and run counts, then one pivot table per metric
    /// (cells <c>mean ± 0.5·std</c>, with the seed count when it differs from the largest).
    /// </summary>
    public string ToMarkdown(ExperimentSpec spec, int gridSize, ReportOptions options, IReadOnlyList<string> figures)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Experiment `{spec.Name}`").AppendLine();
        if (spec.Description.Length > 0) text.AppendLine(spec.Description).AppendLine();
        text.AppendLine($"- Spec: `{spec.Source}`; {Runs} of {gridSize} runs completed and reported.");
        text.AppendLine($"- Each run's series is reduced per metric (min / max / mean / last over its evaluations, docs/experiments.md §1.6); "
                        + $"cells show the mean over `{options.SeedArgument}` ± 0.5·(sample std), as the bands of the paper's figures; "
                        + "`(n=…)` marks cells with fewer runs than the others.");
        if (MissingMetrics.Count > 0) text.AppendLine($"- No run reported: {string.Join(", ", MissingMetrics.Select(m => $"`{m}`"))}.");
        text.AppendLine();
        foreach (var pivot in Pivots)
        {
            text.AppendLine($"## {pivot.Metric.Label}").AppendLine();
            int most = pivot.Cells.Values.Max(c => c.Count);
            var header = new[] { RowArguments.Count == 0 ? "runs" : string.Join(" ", RowArguments) }
                .Concat(pivot.Columns.Select(c => $"{(options.ColumnArgument == "iw" ? "K" : options.ColumnArgument)}={c.Value}"));
            text.AppendLine("| " + string.Join(" | ", header) + " |");
            text.AppendLine("|" + string.Join("|", header.Select((_, i) => i == 0 ? "---" : "---:")) + "|");
            foreach (var row in pivot.Rows)
            {
                var cells = pivot.Columns.Select(c => pivot.Cells.TryGetValue((row, c.Value), out var s)
                    ? Format(s.Mean) + (s.Count > 1 ? $" ± {Format(0.5 * s.StandardDeviation)}" : "") + (s.Count < most ? $" (n={s.Count})" : "")
                    : "–");
                text.AppendLine($"| {row} | {string.Join(" | ", cells)} |");
            }
            text.AppendLine();
        }
        if (figures.Count > 0)
        {
            text.AppendLine("## Figures").AppendLine();
            foreach (var figure in figures) text.AppendLine($"![{Path.GetFileNameWithoutExtension(figure)}]({Path.GetFileName(figure)})");
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>The aggregated cells as CSV (metric, reduction, row, column, mean, std, n) for further analysis.</summary>
    public string ToCsv(ReportOptions options)
    {
        var text = new StringBuilder($"metric,reduction,row,{options.ColumnArgument},mean,std,n\n");
        foreach (var pivot in Pivots)
            foreach (var row in pivot.Rows)
                foreach (var column in pivot.Columns)
                    if (pivot.Cells.TryGetValue((row, column.Value), out var s))
                        text.Append(CultureInfo.InvariantCulture, $"{pivot.Metric.Name},{pivot.Metric.Reduction.ToString().ToLowerInvariant()},\"{row}\",{column.Value},{s.Mean:R},{s.StandardDeviation:R},{s.Count}\n");
        return text.ToString();
    }

    /// <summary>Numbers with 4 significant digits, in plain or scientific notation by magnitude.</summary>
    public static string Format(double value)
    {
        if (value == 0 || !double.IsFinite(value)) return value.ToString(CultureInfo.InvariantCulture);
        double magnitude = Math.Abs(value);
        return magnitude is >= 1e-3 and < 1e5 ? value.ToString("G4", CultureInfo.InvariantCulture) : value.ToString("0.###E+0", CultureInfo.InvariantCulture);
    }
}
