using System.Diagnostics;
using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

/// <summary><c>ovis experiment</c> as a real child process, with the fake trainer substituted through OVIS_TRAIN_COMMAND.</summary>
public class ExperimentCommandTests
{
    private static string Cli => Path.Combine(AppContext.BaseDirectory, "Ovis.Cli.dll");

    private static Process Start(FakeTrainer trainer, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Cli);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment[TrainerCommand.EnvironmentVariable] = trainer.CommandLine;
        var process = Process.Start(info)!;
        return process;
    }

    private static (int ExitCode, string Output, string Error) Run(FakeTrainer trainer, params string[] arguments)
    {
        using var process = Start(trainer, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), $"ovis {string.Join(" ", arguments)} did not finish");
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void AKilledRunnerResumedWithTheSameCommandCompletesEveryRunExactlyOnce()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var specPath = directory.File("restart.json");
        File.WriteAllText(specPath, """
            { "name": "restart", "global": { "steps": 3, "sleep": 0.7 },
              "parameters": { "seed": [1, 2, 3, 4], "iw": [2, 5] }, "estimators": [ { "estimator": "reinforce" } ] }
            """);
        var outRoot = directory.File("out");
        var arguments = new[] { "experiment", "run", specPath, "--workers", "2", "--out", outRoot };

        using (var runner = Start(trainer, arguments))
        {
            _ = runner.StandardOutput.ReadToEndAsync(); // keep the pipes drained
            _ = runner.StandardError.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            // Kill once 3 runs are done and another trainer is mid-run (started, not finished), so the kill orphans it.
            bool Ready() { var (s, c) = trainer.Counts(); return c.Count >= 3 && s.Keys.Any(d => !c.ContainsKey(d)); }
            while (!Ready() && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(10);
            Assert.True(Ready(), "the runner should have completed 3 runs and started another within 60 s");
            runner.Kill(entireProcessTree: false); // SIGKILL the runner only: its trainers are orphaned mid-run
            runner.WaitForExit();
        }
        var finishedBeforeKill = trainer.Counts().Completions.Keys.ToHashSet();
        Assert.True(finishedBeforeKill.Count < 8, "the kill should have come before the end of the sweep");
        using (var store = new SqliteRunStore(directory.File("restart.sqlite")))
            Assert.Contains(store.List("restart"), r => r.Status == RunStatus.Running); // left behind by the killed runner

        var resumed = Run(trainer, arguments);
        Assert.True(resumed.ExitCode == 0, resumed.Output + resumed.Error);
        Assert.Contains("recovered", resumed.Output);

        var (starts, completions) = trainer.Counts();
        Assert.Equal(8, completions.Count);
        Assert.All(completions, c => Assert.Equal(1, c.Value)); // every run completed exactly once
        Assert.All(finishedBeforeKill, dir => Assert.Equal(1, starts[dir])); // no finished run was repeated
        using (var store = new SqliteRunStore(directory.File("restart.sqlite")))
        {
            var runs = store.List("restart");
            Assert.Equal(8, runs.Count);
            Assert.All(runs, r => Assert.Equal(RunStatus.Completed, r.Status));
            Assert.All(runs.Where(r => finishedBeforeKill.Contains(r.OutDir!)), r => Assert.Equal(1, r.Attempts));
        }

        var status = Run(trainer, "experiment", "status", specPath);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("completed  8", status.Output);
        Assert.Contains("failed     0", status.Output);

        var report = Run(trainer, "experiment", "report", specPath, "--out", directory.File("report"), "--metrics", "gmm/posterior_error,grads/snr");
        Assert.True(report.ExitCode == 0, report.Output + report.Error);
        // fake trainer: min posterior error = 2·seed/(iw·3) for reinforce; mean over seeds 1..4 at K=2 is 2·2.5/6
        Assert.Contains($"| reinforce | {ExperimentReport.Format(5.0 / 6)} ± ", File.ReadAllText(directory.File("report/report.md")));
        Assert.True(File.Exists(directory.File("report/gmm_posterior_error.png")));
        Assert.True(File.Exists(directory.File("report/grads_snr.png")));
    }

    [Fact]
    public void AMalformedSpecIsOneLineOnStderrAndExitCode2()
    {
        using var directory = new TempDirectory();
        var specPath = directory.File("bad.json");
        File.WriteAllText(specPath, """{ "parameters": { "iw": 5 }, "global": { "estimator": "reinforce" } }""");
        var result = Run(new FakeTrainer(directory.File("log")), "experiment", "run", specPath);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"ovis: {specPath}: parameters.iw must be a list of values, got 5", result.Error.Trim());
    }
}
