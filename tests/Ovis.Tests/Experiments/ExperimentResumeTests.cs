using System.Diagnostics;
using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

/// <summary>
/// A re-attempted run continues from its checkpoint instead of failing or starting over; a store created anew adopts
/// the runs its folders show completed; a folder holding another run is refused and left as it was.
/// </summary>
public class ExperimentResumeTests
{
    private static ExperimentSpec Spec(string name, string global = "", string seeds = "[1, 2]")
        => ExperimentSpec.Parse($$"""
            { "name": "{{name}}", "global": { "steps": 6{{global}} },
              "parameters": { "seed": {{seeds}}, "iw": [2] },
              "estimators": [ { "estimator": "ovis-gamma1" } ] }
            """, "test.json", name);

    private static ExperimentRunner Runner(IRunStore store, string outRoot, TrainerCommand trainer, int workers = 2)
        => new(store, new RunnerOptions(workers, outRoot, trainer, TimeSpan.FromMinutes(1), StopGrace: TimeSpan.FromSeconds(10)), TextWriter.Null);

    [Fact]
    public async Task AnInterruptedRunResumesFromItsCheckpointAndEndsWithTheMetricsOfAnUninterruptedOne()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var spec = Spec("resume", ", \"step-sleep\": 0.2", "[1]");
        using var store = new SqliteRunStore(directory.File("r.sqlite"));
        using var cancellation = new CancellationTokenSource();
        var running = Task.Run(() => Runner(store, directory.File("out"), trainer.Command).Run(spec, cancellation.Token));
        var clock = Stopwatch.StartNew();
        var checkpoint = Path.Combine(RunDirectory.For(directory.File("out"), spec.Expand()[0]), "checkpoint.bin");
        while (!(File.Exists(checkpoint) && File.ReadAllText(checkpoint).Trim() is "2" or "3" or "4") && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(20);
        cancellation.Cancel();
        Assert.True((await running).Cancelled);
        var stopped = trainer.Events().Single(e => e.Kind == "stopped");
        Assert.InRange(stopped.Step, 2, 5);
        Assert.Equal(RunStatus.Queued, store.List("resume").Single().Status);

        var second = Runner(store, directory.File("out"), trainer.Command).Run(spec);
        Assert.Equal((1, 0), (second.Completed, second.Failed));
        var events = trainer.Events();
        Assert.Equal(new[] { "start", "stopped", "resume", "done" }, events.Select(e => e.Kind));
        Assert.Equal(stopped.Step, events.Single(e => e.Kind == "resume").Step);              // continued where it stopped
        var record = store.List("resume").Single();
        Assert.Equal((RunStatus.Completed, 2), (record.Status, record.Attempts));

        Runner(store, directory.File("whole"), trainer.Command).Run(Spec("whole", "", "[1]"));
        var run = spec.Expand()[0];
        Assert.Equal(File.ReadAllText(Path.Combine(RunDirectory.For(directory.File("whole"), Spec("whole", "", "[1]").Expand()[0]), "metrics.jsonl")),
                     File.ReadAllText(Path.Combine(RunDirectory.For(directory.File("out"), run), "metrics.jsonl")));
    }

    [Fact]
    public void AStoreCreatedAnewAdoptsTheCompletedRunsAndKeepsTheirSummaries()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var spec = Spec("adopt");
        using (var store = new SqliteRunStore(directory.File("a.sqlite")))
            Assert.Equal(2, Runner(store, directory.File("out"), trainer.Command).Run(spec).Completed);
        var summaries = spec.Expand().Select(r => File.ReadAllBytes(Path.Combine(RunDirectory.For(directory.File("out"), r), RunDirectory.SummaryFile))).ToArray();
        File.Delete(directory.File("a.sqlite"));

        using var fresh = new SqliteRunStore(directory.File("a.sqlite"));
        var result = Runner(fresh, directory.File("out"), trainer.Command).Run(spec);
        Assert.Equal((2, 0), (result.Completed, result.Failed));
        Assert.All(fresh.List("adopt"), r => Assert.Equal(RunStatus.Completed, r.Status));
        Assert.All(trainer.Counts().Starts.Values, n => Assert.Equal(1, n));                      // nothing trained twice
        Assert.Equal(summaries, spec.Expand().Select(r => File.ReadAllBytes(Path.Combine(RunDirectory.For(directory.File("out"), r), RunDirectory.SummaryFile))));
    }

    [Fact]
    public void AFolderHoldingAnotherRunIsRefusedAndLeftAsItWas()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var spec = Spec("foreign", "", "[1]");
        var folder = RunDirectory.For(directory.File("out"), spec.Expand()[0]);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, RunDirectory.ArgumentsFile), """{"estimator": "reinforce", "seed": 99}""");
        File.WriteAllText(Path.Combine(folder, "checkpoint.bin"), "4");
        using var store = new SqliteRunStore(directory.File("f.sqlite"));
        var result = Runner(store, directory.File("out"), trainer.Command).Run(spec);
        Assert.Equal((0, 1), (result.Completed, result.Failed));
        var error = store.List("foreign").Single().Error!;
        Assert.Contains($"{folder} holds a different run", error);
        Assert.Contains("move it away", error);
        Assert.Empty(trainer.Events());
        Assert.Equal("4", File.ReadAllText(Path.Combine(folder, "checkpoint.bin")));
        Assert.Contains("\"seed\": 99", File.ReadAllText(Path.Combine(folder, RunDirectory.ArgumentsFile)));
    }

    [Fact]
    public void ATrainerKilledFromOutsideIsResumedNotFailed()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var spec = Spec("killed", ", \"step-sleep\": 0.2", "[1]");
        using var store = new SqliteRunStore(directory.File("k.sqlite"));
        var runner = Task.Run(() => Runner(store, directory.File("out"), trainer.Command, workers: 1).Run(spec));
        var folder = RunDirectory.For(directory.File("out"), spec.Expand()[0]);
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(Path.Combine(folder, "checkpoint.bin")) && File.ReadAllText(Path.Combine(folder, "checkpoint.bin")).Trim() == "2") && clock.Elapsed < TimeSpan.FromSeconds(30))
            Thread.Sleep(10);
        var process = ProcessIdentity.Parse(store.List("killed").Single().Process)!;
        Process.Start("kill", $"-KILL {process.Pid}")!.WaitForExit();
        var result = runner.Result;
        Assert.Equal((1, 0), (result.Completed, result.Failed));
        Assert.Contains(trainer.Events(), e => e.Kind == "resume" && e.Step >= 2);
        Assert.Equal(2, store.List("killed").Single().Attempts);
    }
}
