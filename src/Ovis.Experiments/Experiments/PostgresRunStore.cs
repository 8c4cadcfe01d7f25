using Npgsql;
using NpgsqlTypes;

namespace Ovis.Experiments;

/// <summary>
/// <see cref="IRunStore"/> on a PostgreSQL server (Npgsql), so runners on several machines can share one sweep
/// (docs/design.md, Experiments). A claim is one statement, <c>UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)</c>:
/// concurrent claimers skip the row another one has locked instead of waiting for it, and no two get the same run.
/// Times are the server's clock (<c>now()</c>), so heartbeats from different machines are comparable. Connections come
/// from a pooled data source, one per operation, which makes an instance safe to share between threads. An operation
/// that fails because the server went away (a restart, a dropped connection) is retried with exponential backoff for
/// up to <see cref="RetryBudget"/>; every operation is safe to repeat (enqueueing skips stored keys, and each update
/// names the worker that must hold the run).
/// </summary>
public sealed class PostgresRunStore : IRunStore
{
    private const string Table = "ovis_runs";
    private const string Columns = "id, experiment, run_key, args, status, attempts, worker, process, started, heartbeat, finished, error, out_dir, summary";
    private readonly NpgsqlDataSource dataSource;

    /// <summary>Connect with an Npgsql connection string (<c>Host=…;Port=…;Username=…;Database=…</c>) and create the table if needed.</summary>
    public PostgresRunStore(string connectionString)
    {
        try
        {
            dataSource = NpgsqlDataSource.Create(connectionString);
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            Location = $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}, table {Table}";
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"'{connectionString}' is not a PostgreSQL connection string such as Host=db;Username=ovis;Database=ovis: {e.Message}");
        }
        try
        {
            InTransaction(connection =>
            {
                // creating the table from two runners at once races in the catalogue: serialise it with an advisory lock
                Execute(connection, "SELECT pg_advisory_xact_lock(7470697)");
                Execute(connection, $@"
CREATE TABLE IF NOT EXISTS {Table} (
    id         BIGSERIAL PRIMARY KEY,
    experiment TEXT NOT NULL,
    run_key    TEXT NOT NULL,
    args       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    worker     TEXT,
    process    TEXT,
    started    TIMESTAMPTZ,
    heartbeat  TIMESTAMPTZ,
    finished   TIMESTAMPTZ,
    error      TEXT,
    out_dir    TEXT,
    summary    TEXT,
    created    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (experiment, run_key));
CREATE INDEX IF NOT EXISTS {Table}_by_status ON {Table} (experiment, status, id);");
                return 0;
            });
        }
        catch (NpgsqlException e)
        {
            dataSource.Dispose();
            throw new InvalidOperationException($"cannot open the PostgreSQL run store {Location} ({e.Message}); nothing was enqueued", e);
        }
        connected = true;
    }

    /// <summary>Retries start once the store has been reached: a wrong host or password fails at once instead.</summary>
    private bool connected;

    /// <inheritdoc />
    public string Location { get; }

    /// <summary>True when a <c>--store</c> value is a PostgreSQL connection string rather than a file path.</summary>
    public static bool IsConnectionString(string store) => store.Contains("Host=", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public EnqueueResult Enqueue(string experiment, IReadOnlyList<RunDefinition> runs) => InTransaction(connection =>
    {
        int added = 0;
        foreach (var run in runs)
            added += Execute(connection, $"INSERT INTO {Table} (experiment, run_key, args, status) VALUES (@e, @k, @a, 'queued') ON CONFLICT DO NOTHING",
                ("e", experiment), ("k", run.Key), ("a", run.ToJson()));
        return new EnqueueResult(added, runs.Count - added);
    });

    /// <inheritdoc />
    public RunRecord? Claim(string experiment, string worker) => InTransaction(connection =>
        Query(connection, $@"UPDATE {Table} SET status = 'running', worker = @w, process = NULL, out_dir = NULL, attempts = attempts + 1,
                                started = now(), heartbeat = now(), finished = NULL, error = NULL
                             WHERE id = (SELECT id FROM {Table} WHERE experiment = @e AND status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                             RETURNING {Columns}", ("e", experiment), ("w", worker)).SingleOrDefault());

    /// <inheritdoc />
    public bool Attach(long id, string worker, string outDir, string? process)
        => Update("out_dir = @o, process = @p, heartbeat = now()", id, worker, ("o", outDir), ("p", process));

    /// <inheritdoc />
    public bool Heartbeat(long id, string worker) => Update("heartbeat = now()", id, worker);

    /// <inheritdoc />
    public bool Complete(long id, string worker, string summaryJson)
        => Update("status = 'completed', finished = now(), heartbeat = now(), summary = @s, error = NULL", id, worker, ("s", summaryJson));

    /// <inheritdoc />
    public bool Fail(long id, string worker, string error)
        => Update("status = 'failed', finished = now(), heartbeat = now(), error = @r", id, worker, ("r", error));

    /// <inheritdoc />
    public bool Release(long id, string worker, string reason)
        => Update("status = 'queued', worker = NULL, process = NULL, error = @r", id, worker, ("r", reason));

    /// <inheritdoc />
    public int RequeueFailed(string experiment) => InTransaction(connection =>
        Execute(connection, $"UPDATE {Table} SET status = 'queued', worker = NULL, process = NULL, finished = NULL WHERE experiment = @e AND status = 'failed'",
            ("e", experiment)));

    /// <inheritdoc />
    public int Remove(string experiment, IReadOnlyList<long> ids) => InTransaction(connection =>
        ids.Sum(id => Execute(connection, $"DELETE FROM {Table} WHERE id = @i AND experiment = @e AND status IN ('queued', 'failed')", ("i", id), ("e", experiment))));

    /// <inheritdoc />
    public IReadOnlyList<RunRecord> List(string? experiment = null, RunStatus? status = null) => InTransaction(connection =>
        (IReadOnlyList<RunRecord>)Query(connection, $"SELECT {Columns} FROM {Table} WHERE (@e::text IS NULL OR experiment = @e) AND (@s::text IS NULL OR status = @s) ORDER BY id",
            ("e", experiment), ("s", status is null ? null : SqliteRunStore.StatusText(status.Value))));

    /// <inheritdoc />
    public IReadOnlyList<string> Experiments() => InTransaction(connection =>
    {
        using var command = Command(connection, $"SELECT DISTINCT experiment FROM {Table} ORDER BY experiment");
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read()) names.Add(reader.GetString(0));
        return (IReadOnlyList<string>)names;
    });

    /// <summary>Close the connection pool.</summary>
    public void Dispose() => dataSource.Dispose();

    private bool Update(string assignments, long id, string worker, params (string Name, object? Value)[] parameters) => InTransaction(connection =>
        Execute(connection, $"UPDATE {Table} SET {assignments} WHERE id = @id AND worker = @w AND status = 'running'",
            parameters.Concat(new (string, object?)[] { ("id", id), ("w", worker) }).ToArray()) == 1);

    /// <summary>How long an operation keeps retrying while the server is unreachable before the error is reported.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(90);

    private T InTransaction<T>(Func<NpgsqlConnection, T> body)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                using var connection = dataSource.OpenConnection();
                using var transaction = connection.BeginTransaction();
                var result = body(connection);
                transaction.Commit();
                return result;
            }
            catch (Exception e) when (connected && IsConnectionFailure(e) && clock.Elapsed + delay < RetryBudget)
            {
                dataSource.Clear();                       // the pool's other connections died with the server
                Thread.Sleep(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>
    /// True for failures of the connection rather than of the statement: the server refusing or dropping connections
    /// (restart, shutdown, network), which a later attempt can get past.
    /// </summary>
    private static bool IsConnectionFailure(Exception e) => e switch
    {
        PostgresException p => p.SqlState is "57P01" or "57P02" or "57P03" || p.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException n => n.IsTransient || n.InnerException is System.Net.Sockets.SocketException or IOException || n.Message.Contains("Exception while", StringComparison.Ordinal),
        _ => false,
    };

    private static int Execute(NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    private static List<RunRecord> Query(NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var records = new List<RunRecord>();
        while (reader.Read())
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            DateTime? Time(int i) => reader.IsDBNull(i) ? null : reader.GetFieldValue<DateTime>(i).ToUniversalTime();
            records.Add(new RunRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), RunDefinition.FromJson(reader.GetString(3)),
                Enum.Parse<RunStatus>(reader.GetString(4), ignoreCase: true), reader.GetInt32(5), Text(6), Text(7), Time(8), Time(9), Time(10),
                Text(11), Text(12), Text(13)));
        }
        return records;
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.Add(value is long number
                ? new NpgsqlParameter(name, NpgsqlDbType.Bigint) { Value = number }
                : new NpgsqlParameter(name, NpgsqlDbType.Text) { Value = value ?? DBNull.Value });
        return command;
    }
}
