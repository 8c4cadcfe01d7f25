using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Ovis.Experiments;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis experiment run|status|report</c>: run an experiment grid with a pool of workers over a durable run store,
/// show its progress, and aggregate its results into markdown tables and PNG figures (docs/design.md, Experiments).
/// </summary>
public static class ExperimentCommand
{
    /// <summary>Exit code when the runner was interrupted (128 + SIGINT).</summary>
    public const int Interrupted = 130;

    /// <summary>Build the command with its three subcommands.</summary>
    public static Command Create()
    {
        var command = new Command("experiment", "Run experiment grids (JSON specs in experiments/) as trainer processes, track them in a run store, and report results");
        command.Subcommands.Add(CreateRun());
        command.Subcommands.Add(CreateStatus());
        command.Subcommands.Add(CreateReport());
        return command;
    }

    private static Option<string?> StoreOption() => new("--store")
    {
        Description = "the run store: an SQLite file (default: <spec dir>/<name>.sqlite) or a PostgreSQL connection string 'Host=…;Username=…;Database=…' shared by runners on several machines",
    };

    private static Command CreateRun()
    {
        var spec = new Argument<string>("spec") { Description = "the experiment spec (JSON)" };
        var workers = new Option<int>("--workers") { Description = "trainer processes run at the same time", DefaultValueFactory = _ => 1 };
        var store = StoreOption();
        var requeue = new Option<string?>("--requeue") { Description = "'failed': put failed runs back in the queue first" };
        var output = new Option<string?>("--out") { Description = "output root; each run writes to <out>/<first 12 hex digits of its key> (default: runs/<name>)" };
        var heartbeat = new Option<double>("--heartbeat-timeout")
        {
            Description = "seconds without a heartbeat after which a running run of another (e.g. remote) runner counts as abandoned",
            DefaultValueFactory = _ => RunnerOptions.DefaultHeartbeatTimeout.TotalSeconds,
        };
        var trainer = new Option<string?>("--trainer")
        {
            Description = $"the command that runs 'ovis train' (default: this CLI's 'train'; also settable with {TrainerCommand.EnvironmentVariable})",
        };
        var command = new Command("run", "Enqueue the spec's grid (idempotent) and run the queued runs with N workers; run it again to resume after an interruption");
        command.Arguments.Add(spec);
        foreach (var option in new Option[] { workers, store, requeue, output, heartbeat, trainer }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var requeueValue = parse.GetValue(requeue);
            if (requeueValue is not (null or "failed")) throw new ArgumentException($"--requeue accepts only 'failed', got '{requeueValue}'");
            double timeout = parse.GetValue(heartbeat);
            if (!(timeout > 0)) throw new ArgumentException($"--heartbeat-timeout must be a positive number of seconds, got {timeout}");
            var experiment = ExperimentSpec.Load(parse.GetValue(spec)!);
            var trainerCommand = TrainerCommand.Resolve(OwnTrainer(), parse.GetValue(trainer));
            var options = new RunnerOptions(parse.GetValue(workers), Path.GetFullPath(parse.GetValue(output) ?? Path.Combine("runs", experiment.Name)),
                trainerCommand, TimeSpan.FromSeconds(timeout), requeueValue == "failed");
            using var runStore = OpenStore(experiment, parse.GetValue(store));
            Console.WriteLine($"run store: {runStore.Location}");

            using var cancellation = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancellation.Cancel(); };
            Console.CancelKeyPress += onCancel;
            using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; cancellation.Cancel(); });
            try
            {
                var result = new ExperimentRunner(runStore, options, Console.Out).Run(experiment, cancellation.Token);
                if (result.Cancelled) return Interrupted;
                var keys = experiment.Expand().Select(r => r.Key).ToHashSet();
                return runStore.List(experiment.Name).Any(r => keys.Contains(r.Key) && r.Status != RunStatus.Completed) ? CommandRunner.RunError : 0;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        }));
        return command;
    }

    private static Command CreateStatus()
    {
        var spec = new Argument<string?>("spec") { Description = "the experiment spec (JSON); without it, every experiment in --store", Arity = ArgumentArity.ZeroOrOne };
        var store = StoreOption();
        var command = new Command("status", "Count an experiment's runs by status and show the failed runs' errors");
        command.Arguments.Add(spec);
        command.Options.Add(store);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var specPath = parse.GetValue(spec);
            var storePath = parse.GetValue(store);
            if (specPath is null && storePath is null) throw new ArgumentException("give a spec (ovis experiment status experiments/gmm.json) or --store PATH");
            var experiment = specPath is null ? null : ExperimentSpec.Load(specPath);
            using var runStore = experiment is null ? OpenExisting(storePath!) : OpenStore(experiment, storePath);
            var names = experiment is null ? runStore.Experiments() : new[] { experiment.Name };
            if (names.Count == 0) Console.WriteLine($"{runStore.Location}: no runs");
            foreach (var name in names) WriteStatus(runStore, name, experiment?.Expand());
            return 0;
        }));
        return command;
    }

    private static void WriteStatus(IRunStore store, string experiment, IReadOnlyList<RunDefinition>? grid)
    {
        var runs = store.List(experiment);
        var describe = ExperimentRunner.VaryingArguments(runs.Select(r => r.Definition).ToArray());
        Console.WriteLine($"experiment {experiment}: {runs.Count} runs stored"
                          + (grid is null ? "" : $", {grid.Count} in the spec's grid ({grid.Count(g => runs.All(r => r.Key != g.Key))} not enqueued yet)"));
        var table = new TextTable("status", "runs");
        foreach (var status in Enum.GetValues<RunStatus>())
            table.Add(SqliteRunStore.StatusText(status), runs.Count(r => r.Status == status).ToString(CultureInfo.InvariantCulture));
        table.Write(Console.Out);
        var stale = new StaleRunRecovery(store, RunnerOptions.DefaultHeartbeatTimeout);
        foreach (var run in runs.Where(r => r.Status == RunStatus.Running))
        {
            var age = run.Heartbeat is null ? "never" : $"{(DateTime.UtcNow - run.Heartbeat.Value).TotalSeconds:F0} s ago";
            Console.WriteLine($"running: run {run.Id} [{run.Definition.Describe(describe)}] worker {run.Worker}, heartbeat {age}"
                              + (stale.IsStale(run, DateTime.UtcNow) ? " (STALE: its runner stopped; 'ovis experiment run' will requeue it)" : ""));
        }
        foreach (var run in runs.Where(r => r.Status == RunStatus.Failed))
        {
            Console.WriteLine($"failed: run {run.Id} [{run.Definition.Describe(describe)}] after {run.Attempts} attempt(s), output {run.OutDir ?? "-"}:");
            foreach (var line in (run.Error ?? "(no error recorded)").Split('\n')) Console.WriteLine("    " + line);
        }
    }

    private static Command CreateReport()
    {
        var spec = new Argument<string>("spec") { Description = "the experiment spec (JSON)" };
        var store = StoreOption();
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
            var experiment = ExperimentSpec.Load(parse.GetValue(spec)!);
            var options = new ReportOptions(MetricSpec.ParseMany(parse.GetValue(metrics) ?? ReportOptions.DefaultMetricsFor(experiment)),
                                            parse.GetValue(columns)!, parse.GetValue(seeds)!);
            var outDir = parse.GetValue(output)!;
            using var runStore = OpenExisting(parse.GetValue(store) ?? DefaultStorePath(experiment));
            var grid = experiment.Expand();
            var keys = grid.Select(r => r.Key).ToHashSet();
            var completed = runStore.List(experiment.Name, RunStatus.Completed).Where(r => keys.Contains(r.Key) && r.OutDir is not null)
                .Select(r => new CompletedRun(r.Definition, r.OutDir!)).ToArray();
            if (completed.Length == 0) throw new InvalidOperationException($"experiment {experiment.Name} has no completed runs in {runStore.Location}");
            var report = ExperimentReport.Build(completed, options);
            Directory.CreateDirectory(outDir);
            var figures = new List<string>();
            foreach (var pivot in report.Pivots)
            {
                var path = Path.Combine(outDir, ReportFigures.FileName(pivot.Metric));
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

    /// <summary>The default store of a spec: <c>&lt;spec dir&gt;/&lt;name&gt;.sqlite</c>.</summary>
    public static string DefaultStorePath(ExperimentSpec spec)
        => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(spec.Source)) ?? ".", spec.Name + ".sqlite");

    /// <summary>Open a store for writing: a PostgreSQL connection string, or an SQLite file created if needed.</summary>
    public static IRunStore Open(string store)
        => PostgresRunStore.IsConnectionString(store) ? new PostgresRunStore(store) : new SqliteRunStore(store);

    private static IRunStore OpenStore(ExperimentSpec spec, string? store) => Open(store ?? DefaultStorePath(spec));

    /// <summary>Open a store that must already exist (status and report do not create one).</summary>
    private static IRunStore OpenExisting(string store)
    {
        if (!PostgresRunStore.IsConnectionString(store) && !File.Exists(store))
            throw new FileNotFoundException($"run store '{store}' does not exist; run 'ovis experiment run SPEC' first");
        return Open(store);
    }
}
