using System.CommandLine;
using System.Globalization;
using Ovis.Experiments;
using Ovis.Experiments.Cluster;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis experiment status [SPEC]</c>: the store's counts by status, the running runs with their heartbeats, the
/// failed runs' errors and, for an experiment submitted to Slurm, its job arrays' task states as Slurm reports them.
/// </summary>
public static class ExperimentStatusCommand
{
    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var spec = new Argument<string?>("spec") { Description = "the experiment spec (JSON); without it, every experiment in --store", Arity = ArgumentArity.ZeroOrOne };
        var store = ExperimentInputs.Store();
        var output = ExperimentInputs.Out();
        var command = new Command("status", "Count an experiment's runs by status, show the failed runs' errors and its Slurm jobs' task states");
        command.Arguments.Add(spec);
        command.Options.Add(store);
        command.Options.Add(output);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var specPath = parse.GetValue(spec);
            var storePath = parse.GetValue(store);
            if (specPath is null && storePath is null) throw new ArgumentException("give a spec (ovis experiment status experiments/gmm.json) or --store PATH");
            var experiment = specPath is null ? null : ExperimentInputs.Load(specPath);
            using var runStore = experiment is null ? ExperimentInputs.OpenExisting(storePath!) : ExperimentInputs.Open(experiment, storePath);
            var names = experiment is null ? runStore.Experiments() : new[] { experiment.Name };
            if (names.Count == 0) Console.WriteLine($"{runStore.Location}: no runs");
            foreach (var name in names) WriteStatus(runStore, name, experiment?.Expand());
            if (experiment is not null) WriteSlurmJobs(experiment, ExperimentInputs.OutRoot(experiment, parse.GetValue(output)));
            return 0;
        }));
        return command;
    }

    /// <summary>The experiment's Slurm jobs (from OUT/slurm/jobs.jsonl) with their tasks' states, when it was submitted.</summary>
    private static void WriteSlurmJobs(ExperimentSpec experiment, string outRoot)
    {
        if (SlurmJobLog.Read(outRoot, experiment.Name).Count == 0) return;
        if (!TrainerCommand.ProgramExists("squeue"))
        {
            Console.WriteLine("slurm: jobs were submitted, but squeue is not on PATH here to show their tasks");
            return;
        }
        foreach (var (job, tasks) in new SlurmExperiment(new Slurm(), outRoot).Jobs(experiment.Name))
        {
            var when = job.Submitted.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
            if (tasks.Count == 0)
            {
                Console.WriteLine($"slurm job {job.JobId} ({job.Tasks} tasks, submitted {when}): no longer known to Slurm (finished)");
                continue;
            }
            var counts = string.Join(", ", tasks.GroupBy(t => t.State).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}"));
            Console.WriteLine($"slurm job {job.JobId} ({job.Tasks} tasks, submitted {when}): {counts}");
            foreach (var task in tasks) Console.WriteLine($"    {task.Id} {task.State}{(task.Reason.Length > 0 ? $" ({task.Reason})" : "")}");
        }
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

}
