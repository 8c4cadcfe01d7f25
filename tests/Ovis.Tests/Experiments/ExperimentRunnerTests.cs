using System.Diagnostics;
using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

public class ExperimentRunnerTests
{
    private static ExperimentSpec Spec(string name, string global, string seeds = "[1, 2]")
        => ExperimentSpec.Parse($$"""
            { "name": "{{name}}", "global": { "steps": 3{{global}} },
              "parameters": { "seed": {{seeds}}, "iw": [2, 5] },
              "estimators": [ { "estimator": "ovis-gamma1" }, { "estimator": "reinforce" } ] }
            """, "test.json", name);

    private static RunnerResult Run(IRunStore store, ExperimentSpec spec, TempDirectory directory, TrainerCommand trainer,
        bool requeueFailed = false, CancellationToken cancellation = default)
        => new ExperimentRunner(store, new RunnerOptions(2, directory.File("out"), trainer, TimeSpan.FromMinutes(1), requeueFailed), TextWriter.Null)
            .Run(spec, cancellation);

    [Fact]
    public void EveryRunExecutesOnceAsATrainerProcessAndAGridRunTwiceIsNotRepeated()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var spec = Spec("ok", "");
        using var store = new SqliteRunStore(directory.File("ok.sqlite"));

        var first = Run(store, spec, directory, trainer.Command);
        Assert.Equal((new EnqueueResult(8, 0), 8, 0), (first.Enqueued, first.Completed, first.Failed));
        var runs = store.List("ok");
        Assert.All(runs, r => Assert.Equal(RunStatus.Completed, r.Status));
        Assert.All(runs, r => Assert.Contains("\"completed\"", r.Summary));
        Assert.All(runs, r => Assert.Equal(RunDirectory.For(directory.File("out"), r.Definition), r.OutDir));
        Assert.All(runs, r => Assert.Equal(r.Key, RunDefinition.FromJson(File.ReadAllText(Path.Combine(r.OutDir!, RunDirectory.ArgumentsFile))).Key));
        Assert.All(runs, r => Assert.Contains($"fake trainer: estimator={r.Definition.Get("estimator")} iw={r.Definition.Get("iw")}", File.ReadAllText(Path.Combine(r.OutDir!, "stdout.log"))));

        var second = Run(store, spec, directory, trainer.Command);
        Assert.Equal((new EnqueueResult(0, 8), 0, 0), (second.Enqueued, second.Completed, second.Failed));
        var (starts, completions) = trainer.Counts();
        Assert.Equal(8, starts.Count);
        Assert.All(starts.Values, n => Assert.Equal(1, n));
        Assert.All(completions.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public void AFailedRunKeepsTheEndOfStderrAndIsRerunOnlyWhenRequeued()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        File.WriteAllText(directory.File("fail-2"), "");
        var spec = Spec("failing", $", \"fail-dir\": \"{directory.Path}\"");
        using var store = new SqliteRunStore(directory.File("failing.sqlite"));

        var first = Run(store, spec, directory, trainer.Command);
        Assert.Equal((4, 4), (first.Completed, first.Failed));
        var failed = store.List("failing", RunStatus.Failed);
        Assert.All(failed, r => Assert.Equal("2", r.Definition.Get("seed")));
        Assert.All(failed, r => Assert.Equal("trainer exited with code 3:\nloading data\nfake trainer: injected failure for seed 2", r.Error));

        var withoutRequeue = Run(store, spec, directory, trainer.Command);
        Assert.Equal((0, 0), (withoutRequeue.Completed, withoutRequeue.Failed));
        Assert.Equal(4, store.List("failing", RunStatus.Failed).Count);

        File.Delete(directory.File("fail-2"));
        var requeued = Run(store, spec, directory, trainer.Command, requeueFailed: true);
        Assert.Equal((4, 4, 0), (requeued.RequeuedFailed, requeued.Completed, requeued.Failed));
        Assert.All(store.List("failing"), r => Assert.Equal(RunStatus.Completed, r.Status));
        Assert.All(store.List("failing"), r => Assert.Equal(r.Definition.Get("seed") == "2" ? 2 : 1, r.Attempts));
        var (starts, completions) = trainer.Counts();
        Assert.All(store.List("failing"), r => Assert.Equal(r.Attempts, starts[r.OutDir!]));
        Assert.All(completions.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public void ARunStoppedByALibtorchErrorResumesFromItsCheckpointInTheSameSession()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        File.WriteAllText(directory.File("native-2-5-reinforce"), "");
        var spec = Spec("native", $", \"fail-dir\": \"{directory.Path}\"");
        using var store = new SqliteRunStore(directory.File("native.sqlite"));

        var result = Run(store, spec, directory, trainer.Command);

        Assert.Equal((8, 0), (result.Completed, result.Failed));
        var runs = store.List("native");
        Assert.All(runs, r => Assert.Equal(RunStatus.Completed, r.Status));
        // The run with seed 2, K = 5 and reinforce exits 70 after its first checkpoint; it alone runs twice.
        var resumed = File.ReadAllLines(directory.File("trainer.log")).Where(l => l.StartsWith("resume ")).ToArray();
        var line = Assert.Single(resumed);
        Assert.EndsWith(" 1", line);
        var run = Assert.Single(runs, r => line.Contains(r.OutDir!));
        Assert.Equal(("2", "5", "reinforce", 2), (run.Definition.Get("seed"), run.Definition.Get("iw"), run.Definition.Get("estimator"), run.Attempts));
    }

    [Fact]
    public void ExitCodeZeroWithoutACompletedSummaryAndAnUnstartableTrainerAreFailures()
    {
        using var directory = new TempDirectory();
        var spec = Spec("nosummary", "", "[1]");
        using var store = new SqliteRunStore(directory.File("s.sqlite"));
        var result = Run(store, spec, directory, TrainerCommand.Parse("bash -c true"));
        Assert.Equal((0, 4), (result.Completed, result.Failed));
        Assert.All(store.List("nosummary"), r => Assert.StartsWith("trainer exited with code 0 but the trainer wrote no summary.json in ", r.Error));

        using var other = new SqliteRunStore(directory.File("t.sqlite"));
        var missing = Run(other, spec, directory, TrainerCommand.Parse(directory.File("no-such-trainer")));
        Assert.Equal(4, missing.Failed);
        Assert.All(other.List("nosummary"), r => Assert.StartsWith($"cannot start '{directory.File("no-such-trainer")}'", r.Error));
    }

    [Fact]
    public async Task CancellingKillsTheTrainerAndRequeuesItsRun()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var spec = Spec("cancel", ", \"sleep\": 30", "[1]");
        using var store = new SqliteRunStore(directory.File("c.sqlite"));
        using var cancellation = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var running = Task.Run(() => Run(store, spec, directory, trainer.Command, cancellation: cancellation.Token));
        while (trainer.Counts().Starts.Count < 2 && clock.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(50);
        cancellation.Cancel();
        var result = await running;
        Assert.True(result.Cancelled);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), "the sleeping trainers must have been killed");
        Assert.Equal(0, result.Completed);
        Assert.All(store.List("cancel"), r => Assert.Equal(RunStatus.Queued, r.Status));
        Assert.Equal(2, store.List("cancel").Count(r => r.Attempts == 1));
        Assert.Empty(trainer.Counts().Completions);
    }

    [Fact]
    public void StaleRunsOfADeadWorkerAreRequeuedOrAdoptedAndTheirOrphanedTrainerKilled()
    {
        using var directory = new TempDirectory();
        using var store = new SqliteRunStore(directory.File("stale.sqlite"));
        store.Enqueue("e", Enumerable.Range(1, 4).Select(i => RunDefinition.FromJson($$"""{"estimator": "reinforce", "seed": {{i}}}""")).ToArray());
        using var exited = Process.Start(new ProcessStartInfo("sleep", "0.3") { UseShellExecute = false })!;
        var deadWorker = ProcessIdentity.Of(exited) + "/w1";
        exited.WaitForExit();
        using var orphan = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;

        var interrupted = store.Claim("e", deadWorker)!;
        store.Attach(interrupted.Id, deadWorker, directory.File("a"), ProcessIdentity.Of(orphan).ToString());
        var finished = store.Claim("e", deadWorker)!;
        Directory.CreateDirectory(directory.File("b"));
        File.WriteAllText(Path.Combine(directory.File("b"), RunDirectory.SummaryFile), """{"status": "completed", "metrics": {}}""");
        store.Attach(finished.Id, deadWorker, directory.File("b"), null);
        var live = store.Claim("e", WorkerIdentity.Create(1))!;

        var result = new StaleRunRecovery(store, TimeSpan.FromMinutes(5)).Recover("e", TextWriter.Null);

        Assert.Equal(new RecoveryResult(Requeued: 1, Adopted: 1, OrphansKilled: 1), result);
        Assert.True(orphan.WaitForExit(5000), "the orphaned trainer must be killed");
        var runs = store.List("e").ToDictionary(r => r.Id);
        Assert.Equal(RunStatus.Queued, runs[interrupted.Id].Status);
        Assert.StartsWith("requeued: worker", runs[interrupted.Id].Error);
        Assert.Equal(RunStatus.Completed, runs[finished.Id].Status);
        Assert.Equal(RunStatus.Running, runs[live.Id].Status);
    }

    [Fact]
    public void ARunOnAnotherHostIsStaleOnlyAfterItsHeartbeatTimesOut()
    {
        using var directory = new TempDirectory();
        using var store = new SqliteRunStore(directory.File("remote.sqlite"));
        store.Enqueue("e", new[] { RunDefinition.FromJson("""{"estimator": "reinforce"}""") });
        var remote = store.Claim("e", "other-host/123/456/w1")!;
        Assert.False(new StaleRunRecovery(store, TimeSpan.FromMinutes(5)).IsStale(remote, DateTime.UtcNow));
        Assert.True(new StaleRunRecovery(store, TimeSpan.FromMinutes(5)).IsStale(remote, DateTime.UtcNow.AddMinutes(6)));
        Assert.Equal(new RecoveryResult(0, 0, 0), new StaleRunRecovery(store, TimeSpan.FromMinutes(5)).Recover("e", TextWriter.Null));
        Thread.Sleep(20);
        Assert.Equal(new RecoveryResult(1, 0, 0), new StaleRunRecovery(store, TimeSpan.FromMilliseconds(10)).Recover("e", TextWriter.Null));
    }

    [Fact]
    public void ARunAbandonedByARemoteRunnerDuringTheSweepIsTakenOver()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var spec = ExperimentSpec.Parse("""
            { "name": "takeover", "global": { "steps": 2, "sleep": 2 },
              "parameters": { "seed": [1, 2, 3] }, "estimators": [ { "estimator": "reinforce" } ] }
            """, "t.json", "takeover");
        using var store = new SqliteRunStore(directory.File("t.sqlite"));
        store.Enqueue(spec.Name, spec.Expand());
        var abandoned = store.Claim(spec.Name, "other-host/123/456/w1")!; // a runner elsewhere took it, then went silent
        var options = new RunnerOptions(1, directory.File("out"), trainer.Command, TimeSpan.FromSeconds(3));

        var result = new ExperimentRunner(store, options, TextWriter.Null).Run(spec);

        // at the start its heartbeat is fresh; after the two other runs (about 4 s) it is stale and this runner takes it over
        Assert.Equal(new RecoveryResult(0, 0, 0), result.Recovered);
        Assert.Equal(3, result.Completed);
        var run = store.List(spec.Name).Single(r => r.Id == abandoned.Id);
        Assert.Equal((RunStatus.Completed, 2), (run.Status, run.Attempts));
        Assert.StartsWith(ProcessIdentity.Current.ToString(), run.Worker);
    }

    [Fact]
    public void TrainerCommandsAreSplitLikeAShellWordList()
    {
        var command = TrainerCommand.Parse("bash '/path with space/fake.sh' \"a \\\"b\\\"\" c\\ d");
        Assert.Equal("bash", command.Program);
        Assert.Equal(new[] { "/path with space/fake.sh", "a \"b\"", "c d" }, command.Prefix);
        var run = RunDefinition.FromJson("""{"estimator": "reinforce", "iw": 2}""");
        Assert.Equal(new[] { "/path with space/fake.sh", "a \"b\"", "c d", "--estimator", "reinforce", "--iw", "2", "--out", "/o" }, command.Arguments(run, "/o"));
        Assert.Throws<ArgumentException>(() => TrainerCommand.Parse("bash 'unterminated"));
        Assert.Throws<ArgumentException>(() => TrainerCommand.Parse("   "));
        var host = new TrainerCommand("/bin/sh", new[] { "train.sh", "train" });
        Assert.Same(host, TrainerCommand.Resolve(host, overrideCommand: ""));
        Assert.Equal(new[] { "x", "train" }, TrainerCommand.Resolve(host, overrideCommand: "sh x train").Prefix);
        Assert.Contains("does not exist", Assert.Throws<FileNotFoundException>(() => TrainerCommand.Resolve(host, "/nowhere/ovis train")).Message);
        Assert.Contains("not on PATH", Assert.Throws<FileNotFoundException>(() => TrainerCommand.Resolve(host, "no-such-program-ovis train")).Message);
    }
}
