using System.Diagnostics;
using Ovis.Experiments;
using Xunit.Abstractions;

namespace Ovis.Tests.Experiments;

/// <summary>
/// Many <c>ovis experiment work</c> processes on one real PostgreSQL store, with the fake trainer: every run is claimed
/// and completed exactly once, and a server restart in the middle loses and duplicates nothing (the store retries).
/// </summary>
public class PostgresWorkerTests : IClassFixture<PostgresServer>
{
    private readonly PostgresServer server;
    private readonly ITestOutputHelper output;

    public PostgresWorkerTests(PostgresServer server, ITestOutputHelper output)
    {
        this.server = server;
        this.output = output;
    }

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "Ovis.Cli.dll");

    private static Process StartWorker(FakeTrainer trainer, string spec, string store, string outRoot)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { Cli, "experiment", "work", spec, "--store", store, "--workers", "1", "--out", outRoot }) info.ArgumentList.Add(argument);
        info.Environment[TrainerCommand.EnvironmentVariable] = trainer.CommandLine;
        return Process.Start(info)!;
    }

    /// <summary>Start the workers, wait for all of them, and check each exited 0; returns the wall time.</summary>
    private static TimeSpan RunWorkers(int count, FakeTrainer trainer, string spec, string store, string outRoot, Action? whileRunning = null)
    {
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, count).Select(_ => StartWorker(trainer, spec, store, outRoot)).ToArray();
        var streams = workers.Select(w => (w.StandardOutput.ReadToEndAsync(), w.StandardError.ReadToEndAsync())).ToArray();
        whileRunning?.Invoke();
        foreach (var (worker, i) in workers.Select((w, i) => (w, i)))
        {
            Assert.True(worker.WaitForExit(TimeSpan.FromMinutes(10)), "a worker did not finish in 10 minutes");
            Assert.True(worker.ExitCode == 0, $"worker {i} exited {worker.ExitCode}: {streams[i].Item2.Result}");
            worker.Dispose();
        }
        return clock.Elapsed;
    }

    private static void AssertEachRunOnce(IRunStore store, string experiment, FakeTrainer trainer, int runs)
    {
        var records = store.List(experiment);
        Assert.Equal(runs, records.Count);
        Assert.All(records, r => Assert.Equal(RunStatus.Completed, r.Status));
        Assert.All(records, r => Assert.Equal(1, r.Attempts));
        var (starts, completions) = trainer.Counts();
        Assert.Equal(runs, starts.Count);
        Assert.Equal(runs, completions.Count);
        Assert.All(starts.Values, n => Assert.Equal(1, n));
        Assert.All(completions.Values, n => Assert.Equal(1, n));
    }

    private static string Spec(TempDirectory directory, string name, int runs, string global)
        => directory.Write(name + ".json", $$"""
            { "name": "{{name}}", "global": { "steps": 1{{global}} },
              "parameters": { "seed": [{{string.Join(", ", Enumerable.Range(1, runs))}}] }, "estimators": [ { "estimator": "reinforce" } ] }
            """);

    [Fact]
    public void SixteenWorkersClaimTwoThousandRunsWithNoneTwiceAndNoneLost()
    {
        const int runs = 2000, workers = 16;
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"), instant: true);
        var spec = Spec(directory, "many", runs, "");
        var connection = server.NewDatabase();
        using var store = new PostgresRunStore(connection);
        store.Enqueue("many", ExperimentSpec.Load(spec).Expand());
        var wall = RunWorkers(workers, trainer, spec, connection, directory.File("out"));
        AssertEachRunOnce(store, "many", trainer, runs);
        output.WriteLine($"{runs} runs of the fake trainer by {workers} worker processes in {wall.TotalSeconds:F1} s: {runs / wall.TotalSeconds:F1} runs/s");
    }

    [Fact]
    public void WorkersRideOutAServerRestartWithoutLosingOrRepeatingARun()
    {
        const int runs = 240;
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var spec = Spec(directory, "restart", runs, ", \"step-sleep\": 0.05");
        var connection = server.NewDatabase();
        using (var store = new PostgresRunStore(connection))
            store.Enqueue("restart", ExperimentSpec.Load(spec).Expand());
        RunWorkers(4, trainer, spec, connection, directory.File("out"), whileRunning: () =>
        {
            var clock = Stopwatch.StartNew();
            while (trainer.Counts().Completions.Count < 40 && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            Assert.True(trainer.Counts().Completions.Count < runs, "the workers finished before the restart");
            server.Restart(TimeSpan.FromSeconds(3));
        });
        using var after = new PostgresRunStore(connection);
        AssertEachRunOnce(after, "restart", trainer, runs);
    }
}
