using System.Diagnostics;
using Npgsql;

namespace Ovis.Tests.Experiments;

/// <summary>
/// A throw-away PostgreSQL cluster for the run-store tests: initdb in a temporary folder, a server listening only on a
/// Unix socket in that folder, stopped and deleted afterwards. PostgreSQL refuses to run as root, so when the tests run
/// as root the server runs as the <c>postgres</c> user (via runuser). Each test gets its own database.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const int Port = 55432;
    private readonly string root;
    private readonly bool asPostgresUser = Environment.UserName == "root";

    /// <summary>Create and start the cluster; fails with the tool's output when PostgreSQL is not installed.</summary>
    public PostgresServer()
    {
        root = Path.Combine("/tmp", "ovis-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        if (asPostgresUser) Tool("chown", "postgres", root);
        Run("initdb", "-D", Path.Combine(root, "data"), "-A", "trust", "-U", "ovis", "--no-sync", "-E", "UTF8");
        Run("pg_ctl", "-D", Path.Combine(root, "data"), "-o", $"-k {root} -p {Port} -c listen_addresses='' -c fsync=off", "-w", "-l", Path.Combine(root, "log"), "start");
    }

    /// <summary>A connection string for a new, empty database.</summary>
    public string NewDatabase()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..12];
        using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            command.ExecuteNonQuery();
        }
        return ConnectionString(name);
    }

    /// <summary>
    /// Stop the server as an administrator's restart would (fast shutdown: every connection is dropped), keep it down for
    /// <paramref name="down"/>, and start it again.
    /// </summary>
    public void Restart(TimeSpan down)
    {
        Run("pg_ctl", "-D", Path.Combine(root, "data"), "-m", "fast", "-w", "stop");
        NpgsqlConnection.ClearAllPools();   // this process's pooled connections died with the server
        Thread.Sleep(down);
        Run("pg_ctl", "-D", Path.Combine(root, "data"), "-o", $"-k {root} -p {Port} -c listen_addresses='' -c fsync=off", "-w", "-l", Path.Combine(root, "log"), "start");
    }

    private string ConnectionString(string database) => $"Host={root};Port={Port};Username=ovis;Database={database};Pooling=true";

    /// <summary>Stop the server and delete the cluster.</summary>
    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        try { Run("pg_ctl", "-D", Path.Combine(root, "data"), "-m", "immediate", "-w", "stop"); }
        finally { Directory.Delete(root, recursive: true); }
    }

    private void Run(string tool, params string[] arguments)
    {
        if (asPostgresUser) Tool("runuser", new[] { "-u", "postgres", "--", tool }.Concat(arguments).ToArray());
        else Tool(tool, arguments);
    }

    private static void Tool(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000)) throw new TimeoutException($"{program} {string.Join(" ", arguments)} did not finish");
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(" ", arguments)} failed ({process.ExitCode}): {output.Result}{error.Result}");
    }
}
