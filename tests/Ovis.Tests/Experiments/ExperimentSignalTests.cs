using System.Diagnostics;
using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

/// <summary>
/// SIGTERM to <c>ovis experiment run</c> (what Slurm sends at a time limit or preemption) with the real trainer: the
/// trainer writes a checkpoint at the next step, the run goes back to the queue, the runner exits within the grace
/// period, and the same command again finishes the run with exactly the metrics of an uninterrupted <c>ovis train</c>.
/// </summary>
public class ExperimentSignalTests
{
    private static string Cli => Path.Combine(AppContext.BaseDirectory, "Ovis.Cli.dll");

    private static Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Cli);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment[TrainerCommand.EnvironmentVariable] = "";
        return Process.Start(info)!;
    }

    private static (int ExitCode, string Output, string Error) Wait(Process process, TimeSpan limit)
    {
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(limit), $"the process did not end within {limit}");
        return (process.ExitCode, output.Result, error.Result);
    }

    private const string Arguments = """
        "model": "gmm", "estimator": "ovis-gamma1", "iw": 5, "batch-size": 50, "steps": 6000, "eval-every": 500, "eval-iw": 20,
        "eval-points": 200, "checkpoint-every": 500, "grad-every": 0, "seed": 7, "threads": 1
        """;

    [Fact]
    public void SigtermCheckpointsTheTrainerRequeuesTheRunAndTheRunResumesExactly()
    {
        using var directory = new TempDirectory();
        var spec = directory.Write("sig.json", $$"""{ "name": "sig", "global": { {{Arguments}} }, "estimators": [ { "estimator": "ovis-gamma1" } ] }""");
        var outRoot = directory.File("out");
        var run = ExperimentSpec.Load(spec).Expand().Single();
        var folder = RunDirectory.For(outRoot, run);
        var command = new[] { "experiment", "run", spec, "--out", outRoot, "--stop-grace", "20" };

        using (var runner = Start(command))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(folder, "checkpoint.bin")) && !runner.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            Assert.False(runner.HasExited, "the run ended before its first checkpoint");
            Process.Start("kill", $"-TERM {runner.Id}")!.WaitForExit();
            var signalled = Stopwatch.StartNew();
            var (code, output, _) = Wait(runner, TimeSpan.FromSeconds(40));
            Assert.Equal(130, code);
            Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(25), $"the runner took {signalled.Elapsed} to stop");
            Assert.Contains("stopped with a checkpoint", output);
        }
        Assert.Contains("stopped at step", File.ReadAllText(Path.Combine(folder, "stderr.log")));
        using (var store = new SqliteRunStore(directory.File("sig.sqlite")))
            Assert.Equal(RunStatus.Queued, store.List("sig").Single().Status);

        using (var again = Start(command))
        {
            var (code, output, error) = Wait(again, TimeSpan.FromMinutes(3));
            Assert.True(code == 0, $"exit {code}: {error}");
            Assert.Contains("resumed from its checkpoint", output);
        }
        var whole = directory.File("whole");
        using (var train = Start(run.CommandLine().Concat(new[] { "--out", whole }).Prepend("train").ToArray()))
            Assert.Equal(0, Wait(train, TimeSpan.FromMinutes(3)).ExitCode);
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "metrics.jsonl")), File.ReadAllText(Path.Combine(folder, "metrics.jsonl")));
        using (var store = new SqliteRunStore(directory.File("sig.sqlite")))
            Assert.Equal((RunStatus.Completed, 2), (store.List("sig").Single().Status, store.List("sig").Single().Attempts));
    }
}
