using System.CommandLine;
using Ovis.Experiments;
using Ovis.Experiments.Cluster;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis experiment submit SPEC --store PG --array N</c>: check the grid, enqueue it in the shared PostgreSQL store,
/// write a readable job script into the output root and submit one Slurm job array whose every task runs
/// <c>ovis experiment work</c> (docs/cluster.md).
/// </summary>
public static class ExperimentSubmitCommand
{
    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var spec = ExperimentInputs.Spec();
        var store = ExperimentInputs.Store();
        store.Required = true;
        var output = ExperimentInputs.Out();
        var array = new Option<int>("--array") { Description = "tasks of the job array; each runs one worker process", Required = true };
        var workers = new Option<int>("--workers") { Description = "trainer processes per task", DefaultValueFactory = _ => 1 };
        var partition = new Option<string?>("--partition") { Description = "Slurm partition" };
        var time = new Option<string?>("--time") { Description = "time limit per task, in Slurm's syntax (e.g. 04:00:00)" };
        var cpus = new Option<int?>("--cpus-per-task") { Description = "CPUs per task (one per worker is the usual choice)" };
        var memory = new Option<string?>("--mem") { Description = "memory per task's node, in Slurm's syntax (e.g. 8G)" };
        var extra = new Option<string[]>("--sbatch-arg") { Description = "any other sbatch option, one per use (e.g. --sbatch-arg=--account=lab --sbatch-arg=--signal=B:TERM@120)", AllowMultipleArgumentsPerToken = false };
        var grace = new Option<double>("--stop-grace") { Description = "seconds a trainer may take to checkpoint on SIGTERM before it is killed (keep it below the cluster's KillWait)", DefaultValueFactory = _ => RunnerOptions.DefaultStopGrace.TotalSeconds };
        var prune = new Option<bool>("--prune") { Description = "remove stored runs (queued or failed) that the changed spec no longer has, instead of refusing" };
        var command = new Command("submit", "Check and enqueue the spec's grid in a PostgreSQL store and submit a Slurm job array of workers");
        command.Arguments.Add(spec);
        foreach (var option in new Option[] { store, output, array, workers, partition, time, cpus, memory, extra, grace, prune }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var storeValue = parse.GetValue(store)!;
            SlurmExperiment.RequireSharedStore(storeValue);
            var slurmOptions = new SlurmOptions(parse.GetValue(array), parse.GetValue(workers), parse.GetValue(partition), parse.GetValue(time),
                                                parse.GetValue(cpus), parse.GetValue(memory), parse.GetValue(extra) ?? Array.Empty<string>());
            slurmOptions.Validate();
            Slurm.EnsureAvailable();
            var experiment = ExperimentInputs.Load(parse.GetValue(spec)!);
            var grid = experiment.Expand();
            ExperimentInputs.CheckGrid(experiment, grid);
            var outRoot = ExperimentInputs.OutRoot(experiment, parse.GetValue(output));
            using var runStore = ExperimentInputs.Open(storeValue);
            ExperimentInputs.CheckUnchanged(runStore, experiment, grid, parse.GetValue(prune));
            var (program, arguments) = CommandRunner.Self("experiment", "work", Path.GetFullPath(experiment.Source), "--store", storeValue,
                "--workers", parse.GetValue(workers).ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", outRoot,
                "--stop-grace", parse.GetValue(grace).ToString(System.Globalization.CultureInfo.InvariantCulture));
            new SlurmExperiment(new Slurm(), outRoot).Submit(experiment, grid, runStore, slurmOptions, arguments.Prepend(program).ToArray(), Console.Out);
            return 0;
        }));
        return command;
    }
}
