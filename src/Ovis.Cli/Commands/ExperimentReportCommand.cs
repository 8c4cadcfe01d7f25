using System.CommandLine;
using Ovis.Experiments;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis experiment report SPEC --out DIR</c>: aggregate the completed runs into markdown and CSV pivot tables (mean ±
/// 0.5·std over seeds) and one PNG figure per metric against the column argument.
/// </summary>
public static class ExperimentReportCommand
{
    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var spec = ExperimentInputs.Spec();
        var store = ExperimentInputs.Store();
        var output = new Option<string>("--out") { Description = "directory for report.md, report.csv and the PNG figures", Required = true };
        var metrics = new Option<string?>("--metrics")
        {
            Description = "comma-separated metric names from metrics.jsonl (or final:NAME from the final evaluation in summary.json), each optionally with " +
                          ":min|max|mean|last (default by name: errors min, L_k max, snr mean, else last). Default: the report metrics of the grid's models (" +
                          string.Join("; ", Ovis.Catalog.ModelCatalog.Entries.Select(e => $"{e.Name}: {e.ReportMetrics}")) + ")",
        };
        var columns = new Option<string>("--columns") { Description = "the argument along the columns and x-axes", DefaultValueFactory = _ => "iw" };
        var seeds = new Option<string>("--seed-argument") { Description = "the argument averaged over", DefaultValueFactory = _ => "seed" };
        var command = new Command("report", "Aggregate the completed runs: per-run reduction, mean ± 0.5·std over seeds, markdown pivot tables and PNG figures against K");
        command.Arguments.Add(spec);
        foreach (var option in new Option[] { store, output, metrics, columns, seeds }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var experiment = ExperimentInputs.Load(parse.GetValue(spec)!);
            var options = new ReportOptions(MetricSpec.ParseMany(parse.GetValue(metrics) ?? ReportOptions.DefaultMetricsFor(experiment)),
                                            parse.GetValue(columns)!, parse.GetValue(seeds)!);
            var outDir = parse.GetValue(output)!;
            using var runStore = ExperimentInputs.OpenExisting(parse.GetValue(store) ?? ExperimentInputs.DefaultStorePath(experiment));
            var grid = experiment.Expand();
            var named = new List<(string, string)> { ("--columns", options.ColumnArgument) };
            if (parse.GetResult(seeds) is { Implicit: false }) named.Add(("--seed-argument", options.SeedArgument));
            foreach (var (name, argument) in named)
                if (grid.All(r => r.Get(argument) is null))
                    throw new ArgumentException($"{name} '{argument}' is not an argument of {experiment.Name}'s runs; its runs have: {string.Join(", ", grid.SelectMany(r => r.Arguments.Select(a => a.Name)).Distinct())}");
            var keys = grid.Select(r => r.Key).ToHashSet();
            var completed = runStore.List(experiment.Name, RunStatus.Completed).Where(r => keys.Contains(r.Key) && r.OutDir is not null)
                .Select(r => new CompletedRun(r.Definition, r.OutDir!)).ToArray();
            if (completed.Length == 0) throw new InvalidOperationException($"experiment {experiment.Name} has no completed runs in {runStore.Location}");
            var report = ExperimentReport.Build(completed, options);
            Directory.CreateDirectory(outDir);
            var figures = new List<string>();
            foreach (var pivot in report.Pivots)
            {
                var path = Path.Combine(outDir, ReportFigures.FileName(pivot.Metric, options.Metrics));
                if (ReportFigures.Write(pivot, path, options.ColumnArgument)) figures.Add(path);
            }
            var markdown = report.ToMarkdown(experiment, grid.Count, options, figures);
            File.WriteAllText(Path.Combine(outDir, "report.md"), markdown);
            File.WriteAllText(Path.Combine(outDir, "report.csv"), report.ToCsv(options));
            Console.Write(markdown);
            Console.WriteLine($"wrote {Path.Combine(outDir, "report.md")}, {Path.Combine(outDir, "report.csv")} and {figures.Count} figures");
            foreach (var missing in report.MissingMetrics) Console.Error.WriteLine($"ovis: warning: no completed run reported metric '{missing}'");
            return 0;
        }));
        return command;
    }

    /// <summary>This program's own <c>train</c> command, the runner's default trainer.</summary>
    private static TrainerCommand OwnTrainer()
    {
        var (program, arguments) = CommandRunner.Self("train");
        return new TrainerCommand(program, arguments);
    }

}
