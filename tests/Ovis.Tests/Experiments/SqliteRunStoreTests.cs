using System.Diagnostics;
using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

public class SqliteRunStoreTests : RunStoreContract
{
    private readonly TempDirectory files = new();

    /// <inheritdoc />
    protected override IRunStore Open(string name) => new SqliteRunStore(files.File(name + ".sqlite"));

    /// <inheritdoc />
    public override void Dispose() => files.Dispose();

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
