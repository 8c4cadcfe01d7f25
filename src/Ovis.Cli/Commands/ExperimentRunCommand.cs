using System.CommandLine;
using System.Globalization;
using Ovis.Experiments;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis experiment run SPEC</c> (check the grid, enqueue it, work on it) and <c>ovis experiment work SPEC</c> (work on
/// a grid enqueued before, e.g. as one task of a Slurm job array): claim queued runs and run each as a trainer process
/// until none is left. An interrupted run resumes from its checkpoint at its next attempt; SIGTERM or Ctrl-C stops the
/// trainers at a checkpoint and requeues their runs.
/// </summary>
public static class ExperimentRunCommand
{
    /// <summary>Build <c>run</c> (<paramref name="enqueue"/>) or <c>work</c>.</summary>
    public static Command Create(bool enqueue)
    {
        var spec = ExperimentInputs.Spec();
        var workers = new Option<int>("--workers") { Description = "trainer processes run at the same time", DefaultValueFactory = _ => 1 };
        var store = ExperimentInputs.Store();
        var output = ExperimentInputs.Out();
        var requeue = new Option<string?>("--requeue") { Description = "'failed': put failed runs back in the queue first" };
        var prune = new Option<bool>("--prune") { Description = "remove stored runs (queued or failed) that the changed spec no longer has, instead of refusing to start" };
        var heartbeat = new Option<double>("--heartbeat-timeout")
        {
            Description = "seconds without a heartbeat after which a running run of another (e.g. remote) runner counts as abandoned",
            DefaultValueFactory = _ => RunnerOptions.DefaultHeartbeatTimeout.TotalSeconds,
        };
        var grace = new Option<double>("--stop-grace")
        {
            Description = "on SIGTERM or Ctrl-C, seconds a trainer may take to write its checkpoint before it is killed (keep it below Slurm's KillWait)",
            DefaultValueFactory = _ => RunnerOptions.DefaultStopGrace.TotalSeconds,
        };
        var trainer = new Option<string?>("--trainer")
        {
            Description = $"the command that runs 'ovis train' (default: this program's 'train'; also settable with {TrainerCommand.EnvironmentVariable}); with another trainer the up-front check of the grid's arguments is skipped",
        };
        var command = enqueue
            ? new Command("run", "Check the spec's grid, enqueue it (idempotent) and run the queued runs with N workers; run it again to continue after an interruption")
            : new Command("work", "Run the queued runs of a grid enqueued before (by run or submit) with N workers, until none is left: what each task of a Slurm job array does");
        command.Arguments.Add(spec);
        foreach (var option in new Option[] { workers, store, output, requeue, prune, heartbeat, grace, trainer }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var requeueValue = parse.GetValue(requeue);
            if (requeueValue is not (null or "failed")) throw new ArgumentException($"--requeue accepts only 'failed', got '{requeueValue}'");
            double timeout = parse.GetValue(heartbeat), stopGrace = parse.GetValue(grace);
            if (!(timeout > 0)) throw new ArgumentException($"--heartbeat-timeout must be a positive number of seconds, got {timeout}");
            if (!(stopGrace >= 0)) throw new ArgumentException($"--stop-grace must be 0 or a positive number of seconds, got {stopGrace}");
            var experiment = ExperimentInputs.Load(parse.GetValue(spec)!);
            var grid = experiment.Expand();
            var given = parse.GetValue(trainer) ?? Environment.GetEnvironmentVariable(TrainerCommand.EnvironmentVariable);
            var trainerCommand = TrainerCommand.Resolve(OwnTrainer(), parse.GetValue(trainer));
            if (string.IsNullOrWhiteSpace(given)) ExperimentInputs.CheckGrid(experiment, grid);
            var options = new RunnerOptions(parse.GetValue(workers), ExperimentInputs.OutRoot(experiment, parse.GetValue(output)),
                trainerCommand, TimeSpan.FromSeconds(timeout), requeueValue == "failed", TimeSpan.FromSeconds(stopGrace));
            using var runStore = ExperimentInputs.Open(experiment, parse.GetValue(store));
            Console.WriteLine($"run store: {runStore.Location}");
            ExperimentInputs.CheckUnchanged(runStore, experiment, grid, parse.GetValue(prune));
            if (!enqueue && runStore.List(experiment.Name).Count == 0)
                throw new InvalidOperationException($"experiment {experiment.Name} has no runs in {runStore.Location}; enqueue them with 'ovis experiment run' or 'ovis experiment submit'");

            var (cancellation, signals) = ExperimentInputs.StopSignals();
            using (cancellation)
            using (signals)
            {
                var runner = new ExperimentRunner(runStore, options, Console.Out);
                var result = enqueue ? runner.Run(experiment, cancellation.Token) : runner.Work(experiment, cancellation.Token);
                if (result.Cancelled) return ExperimentCommand.Interrupted;
            }
            // Runs still queued or running belong to other runners sharing the store; only failures make this one fail.
            var keys = grid.Select(r => r.Key).ToHashSet();
            int failed = runStore.List(experiment.Name, RunStatus.Failed).Count(r => keys.Contains(r.Key));
            if (failed > 0) Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ovis: {failed} run(s) of {experiment.Name} failed; see ovis experiment status {experiment.Source}"));
            return failed > 0 ? CommandRunner.RunError : 0;
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
