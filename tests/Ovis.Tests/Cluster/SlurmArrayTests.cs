using System.Diagnostics;
using System.Text.RegularExpressions;
using Ovis.Experiments;
using Ovis.Tests.Experiments;

namespace Ovis.Tests.Cluster;

/// <summary>
/// A grid of real GMM runs submitted as a Slurm job array to a real single-host Slurm (tests/cluster/slurm-up.sh, which
/// .ci/run starts and exports SLURM_CONF for) over a real PostgreSQL store. One array task is cancelled mid-run and one
/// trainer is SIGKILLed; every run still completes exactly once, the interrupted ones resume from their checkpoints with
/// the metrics of uninterrupted runs, and <c>ovis experiment status</c> agrees with Slurm's own <c>scontrol</c>.
/// Without SLURM_CONF the tests report themselves skipped, unless OVIS_REQUIRE_SLURM=1 (CI) makes that a failure.
/// </summary>
[Collection("Slurm")]
public class SlurmArrayTests : IClassFixture<PostgresServer>
{
    private readonly PostgresServer server;

    public SlurmArrayTests(PostgresServer server) => this.server = server;

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "Ovis.Cli.dll");

    /// <summary>Skip the test without a Slurm to use; fail instead when CI requires one (OVIS_REQUIRE_SLURM=1).</summary>
    private static void RequireSlurm()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SLURM_CONF")) && TrainerCommand.ProgramExists("sbatch")) return;
        if (Environment.GetEnvironmentVariable("OVIS_REQUIRE_SLURM") == "1")
            throw new InvalidOperationException("OVIS_REQUIRE_SLURM=1 but SLURM_CONF is not set or sbatch is missing: tests/cluster/slurm-up.sh did not run");
        Skip.If(true, "no Slurm: start one with tests/cluster/slurm-up.sh and set SLURM_CONF");
    }

    private static (int ExitCode, string Output, string Error) Ovis(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Cli);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment[TrainerCommand.EnvironmentVariable] = "";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), $"ovis {string.Join(" ", arguments)} did not finish");
        return (process.ExitCode, output.Result, error.Result);
    }

    private static string Tool(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    private static void WaitUntil(Func<bool> condition, TimeSpan limit, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < limit, $"timed out after {limit.TotalSeconds:F0} s waiting for {what}");
            Thread.Sleep(200);
        }
    }

    private const string Settings = """
        "model": "gmm", "estimator": "ovis-gamma1", "iw": 5, "batch-size": 50, "eval-every": 250, "eval-iw": 20,
        "eval-points": 100, "checkpoint-every": 250, "grad-every": 0, "threads": 1
        """;

    private static bool HasCheckpoint(RunRecord run) => run.OutDir is not null && File.Exists(Path.Combine(run.OutDir, "checkpoint.bin"));

    [SkippableFact]
    public void AnArrayWithACancelledTaskAndAKilledTrainerCompletesEveryRunOnceWithResumedRunsExact()
    {
        RequireSlurm();
        using var directory = new TempDirectory();
        var spec = directory.Write("array.json", $$"""
            { "name": "array", "global": { {{Settings}}, "steps": 4000 }, "parameters": { "seed": [1, 2, 3, 4, 5, 6] },
              "estimators": [ { "estimator": "ovis-gamma1" } ] }
            """);
        var connection = server.NewDatabase();
        var outRoot = directory.File("out");
        var submitted = Ovis("experiment", "submit", spec, "--store", connection, "--array", "3", "--out", outRoot, "--stop-grace", "4");
        Assert.True(submitted.ExitCode == 0, submitted.Error);
        var job = Regex.Match(submitted.Output, @"submitted job array (\d+)").Groups[1].Value;
        Assert.NotEmpty(job);
        using var store = new PostgresRunStore(connection);

        // Cancel task 0 once its run has a checkpoint: its worker has the trainer checkpoint and requeues the run.
        RunRecord HeldBy(int task) => store.List("array", RunStatus.Running).FirstOrDefault(r => r.Worker!.EndsWith($"/slurm-{job}_{task}", StringComparison.Ordinal) && HasCheckpoint(r))!;
        WaitUntil(() => HeldBy(0) is not null, TimeSpan.FromMinutes(3), "task 0's run to write a checkpoint");
        var cancelled = HeldBy(0);
        Tool("scancel", $"{job}_0");
        // SIGKILL the trainer of task 1's run once it has a checkpoint: the worker requeues it to resume.
        WaitUntil(() => HeldBy(1) is { Process: not null }, TimeSpan.FromMinutes(3), "task 1's run to write a checkpoint");
        var killed = HeldBy(1);
        var trainer = ProcessIdentity.Parse(killed.Process)!;
        Tool("kill", "-KILL", trainer.Pid.ToString());

        WaitUntil(() => store.List("array").All(r => r.Status == RunStatus.Completed), TimeSpan.FromMinutes(8), "every run to complete");
        WaitUntil(() => !Tool("squeue", "-h", "-j", job).Contains(job), TimeSpan.FromMinutes(2), "the array's tasks to end");
        var runs = store.List("array");
        Assert.Equal(6, runs.Count);
        foreach (var interrupted in new[] { cancelled, killed })
        {
            var record = runs.Single(r => r.Id == interrupted.Id);
            Assert.Equal(2, record.Attempts);
            Assert.Contains("(resuming at step", File.ReadAllText(Path.Combine(record.OutDir!, "stdout.log")));
            var whole = directory.File($"whole-{record.Id}");
            var train = Ovis(new[] { "train" }.Concat(record.Definition.CommandLine()).Concat(new[] { "--out", whole }).ToArray());
            Assert.True(train.ExitCode == 0, train.Error);
            Assert.Equal(File.ReadAllText(Path.Combine(whole, "metrics.jsonl")), File.ReadAllText(Path.Combine(record.OutDir!, "metrics.jsonl")));
        }
        Assert.All(runs.Where(r => r.Id != cancelled.Id && r.Id != killed.Id), r => Assert.Equal(1, r.Attempts));

        // ovis experiment status shows the tasks as Slurm's scontrol does: task 0 cancelled, 1 and 2 completed.
        var status = Ovis("experiment", "status", spec, "--store", connection, "--out", outRoot);
        Assert.True(status.ExitCode == 0, status.Error);
        var ours = Regex.Matches(status.Output, $@"^\s+{job}_(\d+) (\w+)", RegexOptions.Multiline).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var slurms = Regex.Matches(Tool("scontrol", "-o", "show", "job", job), @"ArrayTaskId=(\d+) .*?JobState=(\w+)").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal(new Dictionary<string, string> { ["0"] = "CANCELLED", ["1"] = "COMPLETED", ["2"] = "COMPLETED" }, slurms);
        Assert.Equal(slurms, ours);
        Assert.Matches(@"(?m)^completed\s+6\s*$", status.Output);
        Assert.True(Directory.GetFiles(Path.Combine(outRoot, "slurm"), $"{job}_*.out").Length == 3);
    }

    [SkippableFact]
    public void CancelStopsTheJobAndLeavesItsRunsQueuedWithTheirCheckpoints()
    {
        RequireSlurm();
        using var directory = new TempDirectory();
        var spec = directory.Write("long.json", $$"""
            { "name": "long", "global": { {{Settings}}, "steps": 200000 }, "parameters": { "seed": [1, 2] },
              "estimators": [ { "estimator": "ovis-gamma1" } ] }
            """);
        var connection = server.NewDatabase();
        var outRoot = directory.File("out");
        Assert.Equal(0, Ovis("experiment", "submit", spec, "--store", connection, "--array", "2", "--out", outRoot, "--stop-grace", "4").ExitCode);
        using var store = new PostgresRunStore(connection);
        WaitUntil(() => store.List("long", RunStatus.Running).Count(HasCheckpoint) == 2, TimeSpan.FromMinutes(3), "both runs to write a checkpoint");

        var cancel = Ovis("experiment", "cancel", spec, "--store", connection, "--out", outRoot);
        Assert.True(cancel.ExitCode == 0, cancel.Error);
        Assert.Contains("cancelled 1 job(s)", cancel.Output);
        var runs = store.List("long");
        Assert.All(runs, r => Assert.Equal(RunStatus.Queued, r.Status));
        Assert.All(runs, r => Assert.True(File.Exists(Path.Combine(r.OutDir!, "checkpoint.bin"))));
        Assert.All(runs, r => Assert.Contains("stopped at step", File.ReadAllText(Path.Combine(r.OutDir!, "stderr.log"))));
        var status = Ovis("experiment", "status", spec, "--store", connection, "--out", outRoot);
        Assert.Matches(@"_0 CANCELLED", status.Output);
        Assert.Matches(@"_1 CANCELLED", status.Output);
        Assert.Contains("no Slurm job of it is active", Ovis("experiment", "cancel", spec, "--store", connection, "--out", outRoot).Output);
    }
}
