using System.Diagnostics;
using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

/// <summary>
/// <c>ovis experiment run</c> as a child process: a grid with a run <c>ovis train</c> would refuse fails in a second with
/// the runs named and nothing enqueued; a missing trainer program is refused up front; a spec changed after its runs
/// were enqueued is refused naming them; two runners sharing a store both exit 0.
/// </summary>
public class ExperimentGuardTests
{
    private static string Cli => Path.Combine(AppContext.BaseDirectory, "Ovis.Cli.dll");

    private static Process Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Cli);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return Process.Start(info)!;
    }

    private static (int ExitCode, string Output, string Error) Run(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        using var process = Start(environment, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), $"ovis {string.Join(" ", arguments)} did not finish");
        return (process.ExitCode, output.Result, error.Result);
    }

    private static readonly Dictionary<string, string> NoOverride = new() { [TrainerCommand.EnvironmentVariable] = "" };

    [Fact]
    public void AGridWithARunTrainWouldRefuseFailsAtOnceNamingItAndEnqueuesNothing()
    {
        using var directory = new TempDirectory();
        var spec = directory.Write("bad.json", """
            { "name": "bad", "global": { "model": "gmm", "steps": 100, "iw": 5 },
              "parameters": { "seed": [1, 2], "lr": [-1, 0.001] },
              "estimators": [ { "estimator": "ovis-gamma1" }, { "estimator": "dreg" } ] }
            """);
        var clock = Stopwatch.StartNew();
        var (code, _, error) = Run(NoOverride, "experiment", "run", spec, "--out", directory.File("out"));
        Assert.Equal(2, code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Contains("6 of 8 runs would be refused by ovis train, so nothing was started", error);
        Assert.Contains("lr=-1", error);
        Assert.Contains("--lr must be a positive number, got -1", error);
        Assert.Contains("estimator 'dreg' needs reparameterised samples, but model 'gmm' has discrete latents", error);
        Assert.False(Directory.Exists(directory.File("out")));
        using var store = new SqliteRunStore(directory.File("bad.sqlite"));
        Assert.Empty(store.List("bad"));
    }

    [Fact]
    public void AMissingTrainerProgramIsRefusedBeforeAnythingStarts()
    {
        using var directory = new TempDirectory();
        var spec = directory.Write("t.json", """{ "name": "t", "global": { "steps": 3 }, "estimators": [ { "estimator": "reinforce" } ] }""");
        var (code, _, error) = Run(NoOverride, "experiment", "run", spec, "--trainer", "/nowhere/ovis train", "--out", directory.File("out"));
        Assert.Equal(2, code);
        Assert.Contains("the trainer program '/nowhere/ovis' does not exist", error);
        Assert.False(File.Exists(directory.File("t.sqlite")));
    }

    [Fact]
    public void ASpecChangedAfterEnqueueingIsRefusedNamingTheRunsUnlessPruned()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var fake = new Dictionary<string, string> { [TrainerCommand.EnvironmentVariable] = trainer.CommandLine };
        var spec = directory.Write("c.json", """{ "name": "c", "global": { "steps": 2 }, "parameters": { "seed": [1, 2] }, "estimators": [ { "estimator": "reinforce" } ] }""");
        using (var store = new SqliteRunStore(directory.File("c.sqlite")))
            store.Enqueue("c", ExperimentSpec.Load(spec).Expand());
        File.WriteAllText(spec, """{ "name": "c", "global": { "steps": 2 }, "parameters": { "seed": [1, 3] }, "estimators": [ { "estimator": "reinforce" } ] }""");
        var (code, _, error) = Run(fake, "experiment", "run", spec, "--out", directory.File("out"));
        Assert.Equal(2, code);
        Assert.Contains("changed after its runs were enqueued", error);
        Assert.Contains("1 stored run(s) are not in its grid any more", error);
        Assert.Contains("seed=2", error);
        Assert.Empty(trainer.Events());

        var pruned = Run(fake, "experiment", "run", spec, "--out", directory.File("out"), "--prune");
        Assert.True(pruned.ExitCode == 0, pruned.Error);
        using var after = new SqliteRunStore(directory.File("c.sqlite"));
        Assert.Equal(new[] { "1", "3" }, after.List("c").Select(r => r.Definition.Get("seed")).Order());
    }

    [Fact]
    public void TwoRunnersSharingAStoreBothExitZero()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        var fake = new Dictionary<string, string> { [TrainerCommand.EnvironmentVariable] = trainer.CommandLine };
        var spec = directory.Write("s.json", """{ "name": "s", "global": { "steps": 2, "sleep": 0.3 }, "parameters": { "seed": [1, 2, 3, 4, 5, 6] }, "estimators": [ { "estimator": "reinforce" } ] }""");
        var arguments = new[] { "experiment", "run", spec, "--out", directory.File("out") };
        using var first = Start(fake, arguments);
        using var second = Start(fake, arguments);
        var outputs = new[] { first, second }.Select(p => (p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync())).ToArray();
        Assert.True(first.WaitForExit(120_000) && second.WaitForExit(120_000));
        Assert.True(first.ExitCode == 0, $"first runner exited {first.ExitCode}: {outputs[0].Item2.Result}");
        Assert.True(second.ExitCode == 0, $"second runner exited {second.ExitCode}: {outputs[1].Item2.Result}");
        Assert.All(trainer.Counts().Completions.Values, n => Assert.Equal(1, n));
        Assert.Equal(6, trainer.Counts().Completions.Count);
    }
}
