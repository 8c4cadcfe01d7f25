using System.CommandLine;
using Ovis.Experiments.Cluster;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis experiment cancel SPEC</c>: cancel the experiment's Slurm jobs; their workers checkpoint their trainers and
/// requeue their runs, and any run a worker still holds when the job is gone is requeued here. Submitting again (or
/// <c>ovis experiment run</c>) resumes them.
/// </summary>
public static class ExperimentCancelCommand
{
    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var spec = ExperimentInputs.Spec();
        var store = ExperimentInputs.Store();
        var output = ExperimentInputs.Out();
        var wait = new Option<double>("--wait") { Description = "seconds to wait for the tasks to end before requeueing what they still hold", DefaultValueFactory = _ => 120 };
        var command = new Command("cancel", "Cancel the experiment's Slurm job arrays and requeue their runs (they resume from their checkpoints)");
        command.Arguments.Add(spec);
        foreach (var option in new Option[] { store, output, wait }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            Slurm.EnsureAvailable();
            var experiment = ExperimentInputs.Load(parse.GetValue(spec)!);
            using var runStore = ExperimentInputs.OpenExisting(parse.GetValue(store) ?? ExperimentInputs.DefaultStorePath(experiment));
            var cluster = new SlurmExperiment(new Slurm(), ExperimentInputs.OutRoot(experiment, parse.GetValue(output)));
            var (jobs, requeued) = cluster.Cancel(experiment.Name, runStore, TimeSpan.FromSeconds(parse.GetValue(wait)), Console.Out);
            Console.WriteLine(jobs.Count == 0 ? $"{experiment.Name}: no Slurm job of it is active" : $"{experiment.Name}: cancelled {jobs.Count} job(s) ({string.Join(", ", jobs)}); {requeued} run(s) requeued here");
            return 0;
        }));
        return command;
    }
}
