using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Ovis.Experiments;

/// <summary>
/// <see cref="IRunStore"/> in an embedded SQLite file (Microsoft.Data.Sqlite). Several processes may open the same
/// file: every state change runs in its own <c>BEGIN IMMEDIATE</c> transaction, which takes SQLite's write lock
/// before reading, so a claim's select-then-update cannot interleave with another claim. The file uses WAL
/// journaling and waits up to <see cref="BusyTimeoutSeconds"/> for the lock. One connection per instance,
/// serialised by a lock, makes an instance safe to share between threads.
/// </summary>
public sealed class SqliteRunStore : IRunStore
{
    /// <summary>How long a statement waits for another writer's lock before failing.</summary>
    public const int BusyTimeoutSeconds = 60;

    private const string Columns = "id, experiment, run_key, args, status, attempts, worker, process, started, heartbeat, finished, error, out_dir, summary";
    private readonly SqliteConnection connection;
    private readonly object gate = new();

    /// <summary>Open (creating if needed) the store at <paramref name="path"/>.</summary>
    public SqliteRunStore(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false, DefaultTimeout = BusyTimeoutSeconds,
        }.ToString());
        try
        {
            connection.Open();
            Execute("PRAGMA busy_timeout = " + BusyTimeoutSeconds * 1000);
            Execute("PRAGMA journal_mode = WAL");
            Execute("PRAGMA synchronous = NORMAL");
            InTransaction(transaction => Execute(@"
CREATE TABLE IF NOT EXISTS runs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment TEXT NOT NULL,
    run_key   TEXT NOT NULL,
    args      TEXT NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    attempts  INTEGER NOT NULL DEFAULT 0,
    worker    TEXT,
    process   TEXT,
    started   TEXT,
    heartbeat TEXT,
    finished  TEXT,
    error     TEXT,
    out_dir   TEXT,
    summary   TEXT,
    created   TEXT NOT NULL,
    UNIQUE (experiment, run_key));
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (experiment, status, id);", transaction));
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new InvalidDataException($"run store '{Path}' cannot be opened as an SQLite database: {e.Message}");
        }
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public string Location => Path;

    /// <inheritdoc />
    public EnqueueResult Enqueue(string experiment, IReadOnlyList<RunDefinition> runs) => InTransaction(transaction =>
    {
        int added = 0;
        var now = Now();
        foreach (var run in runs)
            added += Execute("INSERT OR IGNORE INTO runs (experiment, run_key, args, status, created) VALUES ($e, $k, $a, 'queued', $now)",
                transaction, ("$e", experiment), ("$k", run.Key), ("$a", run.ToJson()), ("$now", now));
        return new EnqueueResult(added, runs.Count - added);
    });

    /// <inheritdoc />
    public RunRecord? Claim(string experiment, string worker) => InTransaction(transaction =>
    {
        var candidate = Query($"SELECT {Columns} FROM runs WHERE experiment = $e AND status = 'queued' ORDER BY id LIMIT 1",
            transaction, ("$e", experiment)).FirstOrDefault();
        if (candidate is null) return null;
        var now = Now();
        int changed = Execute(@"UPDATE runs SET status = 'running', worker = $w, process = NULL, out_dir = NULL, attempts = attempts + 1, started = $now,
                                heartbeat = $now, finished = NULL, error = NULL WHERE id = $id AND status = 'queued'",
            transaction, ("$w", worker), ("$now", now), ("$id", candidate.Id));
        if (changed != 1) throw new InvalidOperationException($"run {candidate.Id} changed inside a write transaction; the store '{Path}' is inconsistent");
        return Query($"SELECT {Columns} FROM runs WHERE id = $id", transaction, ("$id", candidate.Id)).Single();
    });

    /// <inheritdoc />
    public bool Attach(long id, string worker, string outDir, string? process)
        => Update("out_dir = $o, process = $p, heartbeat = $now", id, worker, ("$o", outDir), ("$p", process));

    /// <inheritdoc />
    public bool Heartbeat(long id, string worker) => Update("heartbeat = $now", id, worker);

    /// <inheritdoc />
    public bool Complete(long id, string worker, string summaryJson)
        => Update("status = 'completed', finished = $now, heartbeat = $now, summary = $s, error = NULL", id, worker, ("$s", summaryJson));

    /// <inheritdoc />
    public bool Fail(long id, string worker, string error)
        => Update("status = 'failed', finished = $now, heartbeat = $now, error = $r", id, worker, ("$r", error));

    /// <inheritdoc />
    public bool Release(long id, string worker, string reason)
        => Update("status = 'queued', worker = NULL, process = NULL, error = $r", id, worker, ("$r", reason));

    /// <inheritdoc />
    public int RequeueFailed(string experiment) => InTransaction(transaction =>
        Execute("UPDATE runs SET status = 'queued', worker = NULL, process = NULL, finished = NULL WHERE experiment = $e AND status = 'failed'",
            transaction, ("$e", experiment)));

    /// <inheritdoc />
    public int Remove(string experiment, IReadOnlyList<long> ids) => InTransaction(transaction =>
        ids.Sum(id => Execute("DELETE FROM runs WHERE id = $i AND experiment = $e AND status IN ('queued', 'failed')", transaction, ("$i", id), ("$e", experiment))));

    /// <inheritdoc />
    public IReadOnlyList<RunRecord> List(string? experiment = null, RunStatus? status = null) => InTransaction(transaction =>
        Query($"SELECT {Columns} FROM runs WHERE ($e IS NULL OR experiment = $e) AND ($s IS NULL OR status = $s) ORDER BY id",
            transaction, ("$e", experiment), ("$s", status is null ? null : StatusText(status.Value))));

    /// <inheritdoc />
    public IReadOnlyList<string> Experiments() => InTransaction(transaction =>
    {
        using var command = Command("SELECT DISTINCT experiment FROM runs ORDER BY experiment", transaction);
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read()) names.Add(reader.GetString(0));
        return (IReadOnlyList<string>)names;
    });

    /// <summary>Close the connection.</summary>
    public void Dispose()
    {
        lock (gate) connection.Dispose();
    }

    /// <summary>The text stored for a status.</summary>
    public static string StatusText(RunStatus status) => status.ToString().ToLowerInvariant();

    private bool Update(string assignments, long id, string worker, params (string Name, object? Value)[] parameters) => InTransaction(transaction =>
        Execute($"UPDATE runs SET {assignments} WHERE id = $id AND worker = $w AND status = 'running'", transaction,
            parameters.Concat(new (string, object?)[] { ("$id", id), ("$w", worker), ("$now", Now()) }).ToArray()) == 1);

    private T InTransaction<T>(Func<SqliteTransaction, T> body)
    {
        lock (gate)
        {
            // deferred: false issues BEGIN IMMEDIATE: the write lock is taken before the first read.
            using var transaction = connection.BeginTransaction(deferred: false);
            var result = body(transaction);
            transaction.Commit();
            return result;
        }
    }

    private void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private int Execute(string sql, SqliteTransaction transaction, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, transaction, parameters);
        return command.ExecuteNonQuery();
    }

    private List<RunRecord> Query(string sql, SqliteTransaction transaction, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, transaction, parameters);
        using var reader = command.ExecuteReader();
        var records = new List<RunRecord>();
        while (reader.Read())
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            DateTime? Time(int i) => reader.IsDBNull(i) ? null
                : DateTime.Parse(reader.GetString(i), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            records.Add(new RunRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), RunDefinition.FromJson(reader.GetString(3)),
                Enum.Parse<RunStatus>(reader.GetString(4), ignoreCase: true), reader.GetInt32(5), Text(6), Text(7), Time(8), Time(9), Time(10),
                Text(11), Text(12), Text(13)));
        }
        return records;
    }

    private SqliteCommand Command(string sql, SqliteTransaction transaction, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = BusyTimeoutSeconds;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    private static string Now() => DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
}
