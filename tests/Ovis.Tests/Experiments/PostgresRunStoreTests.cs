using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

/// <summary>The run-store contract on a real PostgreSQL server (a throw-away cluster, one database per test).</summary>
public class PostgresRunStoreTests : RunStoreContract, IClassFixture<PostgresServer>
{
    private readonly PostgresServer server;
    private readonly Dictionary<string, string> databases = new();

    /// <summary>Use the shared server.</summary>
    public PostgresRunStoreTests(PostgresServer server) => this.server = server;

    /// <inheritdoc />
    protected override IRunStore Open(string name)
    {
        if (!databases.TryGetValue(name, out var connectionString)) databases[name] = connectionString = server.NewDatabase();
        return new PostgresRunStore(connectionString);
    }

    [Fact]
    public void TheRunnerResumesAFailedSweepOnPostgres()
    {
        using var directory = new TempDirectory();
        var trainer = new FakeTrainer(directory.File("trainer.log"));
        File.WriteAllText(directory.File("fail-1"), "");
        var spec = ExperimentSpec.Parse($$"""
            { "name": "pg", "global": { "steps": 2, "fail-dir": "{{directory.Path}}" },
              "parameters": { "seed": [1, 2], "iw": [2, 5] }, "estimators": [ { "estimator": "reinforce" } ] }
            """, "pg.json", "pg");
        using var store = Open("runner");
        var options = new RunnerOptions(3, directory.File("out"), trainer.Command, TimeSpan.FromMinutes(1));
        var first = new ExperimentRunner(store, options, TextWriter.Null).Run(spec);
        Assert.Equal((2, 2), (first.Completed, first.Failed));
        Assert.All(store.List("pg", RunStatus.Failed), r => Assert.EndsWith("injected failure for seed 1", r.Error));
        File.Delete(directory.File("fail-1"));
        var second = new ExperimentRunner(store, options with { RequeueFailed = true }, TextWriter.Null).Run(spec);
        Assert.Equal((new EnqueueResult(0, 4), 2, 0), (second.Enqueued, second.Completed, second.Failed));
        Assert.All(store.List("pg"), r => Assert.Equal(RunStatus.Completed, r.Status));
        Assert.All(trainer.Counts().Completions.Values, n => Assert.Equal(1, n));
        Assert.StartsWith("PostgreSQL /tmp/ovis-pg-", store.Location);
    }
}
