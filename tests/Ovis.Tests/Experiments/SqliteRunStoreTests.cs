using System.Collections.Concurrent;
using System.Diagnostics;
using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

public class SqliteRunStoreTests
{
    private static IReadOnlyList<RunDefinition> Grid(int count)
        => Enumerable.Range(1, count).Select(i => RunDefinition.FromJson($$"""{"estimator": "reinforce", "seed": {{i}}}""")).ToArray();

    [Fact]
    public void EnqueueIsIdempotentByRunKey()
    {
        using var directory = new TempDirectory();
        using var store = new SqliteRunStore(directory.File("runs.sqlite"));
        Assert.Equal(new EnqueueResult(5, 0), store.Enqueue("e", Grid(5)));
        Assert.Equal(new EnqueueResult(2, 5), store.Enqueue("e", Grid(7)));
        Assert.Equal(new EnqueueResult(3, 0), store.Enqueue("other", Grid(3)));
        Assert.Equal(7, store.List("e").Count);
        Assert.Equal(new[] { "e", "other" }, store.Experiments());
        Assert.All(store.List("e"), r => Assert.Equal(RunStatus.Queued, r.Status));
    }

    [Fact]
    public void ClaimsAreExclusiveAcrossThreadsAndConnections()
    {
        const int runs = 120;
        using var directory = new TempDirectory();
        var path = directory.File("runs.sqlite");
        using var first = new SqliteRunStore(path);
        using var second = new SqliteRunStore(path);
        first.Enqueue("e", Grid(runs));
        var claims = new ConcurrentBag<(long Id, string Worker)>();
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var store = t % 2 == 0 ? first : second;
            var worker = $"test/{t}";
            while (store.Claim("e", worker) is { } run)
            {
                claims.Add((run.Id, worker));
                Assert.True(store.Complete(run.Id, worker, "{\"status\":\"completed\"}"));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Equal(runs, claims.Count);
        Assert.Equal(runs, claims.Select(c => c.Id).Distinct().Count());
        Assert.True(claims.Select(c => c.Worker).Distinct().Count() > 1, "several workers should have claimed runs");
        var stored = first.List("e");
        Assert.All(stored, r => Assert.Equal(RunStatus.Completed, r.Status));
        Assert.All(stored, r => Assert.Equal(1, r.Attempts));
        Assert.All(stored, r => Assert.Equal(claims.Single(c => c.Id == r.Id).Worker, r.Worker));
    }

    [Fact]
    public async Task AClaimWaitsWhileAnotherConnectionHoldsTheWriteLock()
    {
        using var directory = new TempDirectory();
        var path = directory.File("runs.sqlite");
        using var store = new SqliteRunStore(path);
        store.Enqueue("e", Grid(2));
        using var blocker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        blocker.Open();
        using var transaction = blocker.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: holds the write lock
        var claim = Task.Run(() => store.Claim("e", "w"));
        Assert.NotSame(claim, await Task.WhenAny(claim, Task.Delay(300))); // the claim waits while another connection holds the write lock
        transaction.Commit();
        var run = await claim.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(RunStatus.Running, run!.Status);
    }

    [Fact]
    public void StateChangesApplyOnlyWhileTheWorkerHoldsTheRun()
    {
        using var directory = new TempDirectory();
        using var store = new SqliteRunStore(directory.File("runs.sqlite"));
        store.Enqueue("e", Grid(1));
        var run = store.Claim("e", "w1")!;
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.Equal(1, run.Attempts);
        Assert.Null(store.Claim("e", "w2"));
        Assert.False(store.Complete(run.Id, "w2", "{}"));
        Assert.True(store.Release(run.Id, "w1", "requeued: test"));
        Assert.False(store.Heartbeat(run.Id, "w1"));
        var again = store.Claim("e", "w2")!;
        Assert.Equal(run.Id, again.Id);
        Assert.Equal(2, again.Attempts);
        Assert.False(store.Complete(run.Id, "w1", "{}")); // the stale worker cannot overwrite the new attempt
        Assert.True(store.Attach(run.Id, "w2", "/tmp/out", "host/1/2"));
        Assert.True(store.Complete(run.Id, "w2", "{\"status\":\"completed\"}"));
        var done = store.List("e").Single();
        Assert.Equal((RunStatus.Completed, "w2", "/tmp/out", "{\"status\":\"completed\"}"), (done.Status, done.Worker, done.OutDir, done.Summary));
        Assert.NotNull(done.Finished);
    }

    [Fact]
    public void FailedRunsKeepTheirErrorUntilRequeued()
    {
        using var directory = new TempDirectory();
        using var store = new SqliteRunStore(directory.File("runs.sqlite"));
        store.Enqueue("e", Grid(3));
        var run = store.Claim("e", "w")!;
        Assert.True(store.Fail(run.Id, "w", "trainer exited with code 3:\nboom"));
        var failed = store.List("e", RunStatus.Failed).Single();
        Assert.Equal("trainer exited with code 3:\nboom", failed.Error);
        Assert.Equal(1, store.RequeueFailed("e"));
        Assert.Empty(store.List("e", RunStatus.Failed));
        Assert.Equal(failed.Id, store.Claim("e", "w")!.Id); // requeued runs keep their place (oldest first)
        Assert.Equal(0, store.RequeueFailed("e"));
    }

    [Fact]
    public void ANonDatabaseFileGivesAClearError()
    {
        using var directory = new TempDirectory();
        var path = directory.File("not.sqlite");
        File.WriteAllText(path, "this is not an SQLite database, just some text that is long enough to have a header");
        var error = Assert.Throws<InvalidDataException>(() => new SqliteRunStore(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void ProcessIdentityTellsLiveFromDeadProcesses()
    {
        Assert.True(ProcessIdentity.Current.IsAlive());
        using var exited = Process.Start(new ProcessStartInfo("sleep", "0.3") { UseShellExecute = false })!;
        var identity = ProcessIdentity.Of(exited);
        exited.WaitForExit();
        Assert.False(identity.IsAlive());
        Assert.Null((ProcessIdentity.Current with { Host = "some-other-host" }).IsAlive());
        Assert.False((ProcessIdentity.Current with { StartTicks = ProcessIdentity.Current.StartTicks - TimeSpan.FromHours(1).Ticks }).IsAlive());
        Assert.Equal(identity, ProcessIdentity.Parse(identity.ToString()));
        Assert.Equal(ProcessIdentity.Current, WorkerIdentity.ProcessOf(WorkerIdentity.Create(3)));
    }
}
