using System.Collections.Concurrent;
using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

/// <summary>The behaviour every <see cref="IRunStore"/> must have; each store's test class runs it.</summary>
public abstract class RunStoreContract : IDisposable
{
    /// <summary>Open the store named <paramref name="name"/> (the same name twice gives two handles on one store).</summary>
    protected abstract IRunStore Open(string name);

    /// <summary>Release what the test created.</summary>
    public virtual void Dispose() { }

    /// <summary>A grid of <paramref name="count"/> runs differing by seed.</summary>
    protected static IReadOnlyList<RunDefinition> Grid(int count)
        => Enumerable.Range(1, count).Select(i => RunDefinition.FromJson($$"""{"estimator": "reinforce", "seed": {{i}}}""")).ToArray();

    [Fact]
    public void EnqueueIsIdempotentByRunKey()
    {
        using var store = Open("runs");
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
        using var first = Open("runs");
        using var second = Open("runs");
        first.Enqueue("e", Grid(runs));
        var claims = new ConcurrentBag<(long Id, string Worker)>();
        // All workers start claiming together and pause briefly after each run, as a trainer would, so that on a loaded
        // machine the first thread started cannot drain the queue before the others run.
        using var start = new Barrier(8);
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var store = t % 2 == 0 ? first : second;
            var worker = $"test/{t}";
            start.SignalAndWait();
            while (store.Claim("e", worker) is { } run)
            {
                claims.Add((run.Id, worker));
                Assert.True(store.Complete(run.Id, worker, "{\"status\":\"completed\"}"));
                Thread.Sleep(1);
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
    public void StateChangesApplyOnlyWhileTheWorkerHoldsTheRun()
    {
        using var store = Open("runs");
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
        using var store = Open("runs");
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
}
