using System.CommandLine;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis experiment run|work|submit|status|cancel|report</c>: run an experiment grid with a pool of workers over a
/// durable run store, here or as a Slurm job array, follow it, stop it, and aggregate its results into markdown tables
/// and PNG figures (docs/running-experiments.md, docs/cluster.md).
/// </summary>
public static class ExperimentCommand
{
    /// <summary>Exit code when a worker was stopped before its queue was empty (128 + SIGINT).</summary>
    public const int Interrupted = 130;

    /// <summary>Build the command with its subcommands.</summary>
    public static Command Create()
    {
        var command = new Command("experiment", "Run experiment grids (JSON specs in experiments/) as trainer processes, here or on Slurm, track them in a run store, and report results");
        command.Subcommands.Add(ExperimentRunCommand.Create(enqueue: true));
        command.Subcommands.Add(ExperimentRunCommand.Create(enqueue: false));
        command.Subcommands.Add(ExperimentSubmitCommand.Create());
        command.Subcommands.Add(ExperimentStatusCommand.Create());
        command.Subcommands.Add(ExperimentCancelCommand.Create());
        command.Subcommands.Add(ExperimentReportCommand.Create());
        return command;
    }
}
