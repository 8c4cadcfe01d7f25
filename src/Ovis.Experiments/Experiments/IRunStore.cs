namespace Ovis.Experiments;

/// <summary>The life cycle of a run: queued → running → completed | failed (failed runs can be requeued).</summary>
public enum RunStatus
{
    /// <summary>Waiting for a worker.</summary>
    Queued,
    /// <summary>Claimed by a worker, whose id is recorded.</summary>
    Running,
    /// <summary>The trainer exited with code 0 and wrote a completed summary.json.</summary>
    Completed,
    /// <summary>The trainer failed; the error holds the end of its stderr.</summary>
    Failed,
}

/// <summary>One run as stored.</summary>
/// <param name="Id">the store's id (also the claim order).</param>
/// <param name="Experiment">the experiment name.</param>
/// <param name="Key">the run's identity, <see cref="RunDefinition.Key"/>.</param>
/// <param name="Definition">the run's arguments.</param>
/// <param name="Status">current status.</param>
/// <param name="Attempts">how many times a worker claimed it.</param>
/// <param name="Worker">the worker that holds or last held it (see <see cref="WorkerIdentity"/>).</param>
/// <param name="Process">the trainer child process of the current attempt (see <see cref="ProcessIdentity"/>).</param>
/// <param name="Started">when the current or last attempt started (UTC).</param>
/// <param name="Heartbeat">the last sign of life of the worker holding it (UTC).</param>
/// <param name="Finished">when it completed or failed (UTC).</param>
/// <param name="Error">why it failed (or why it was requeued).</param>
/// <param name="OutDir">the trainer's output directory of the current or last attempt.</param>
/// <param name="Summary">the trainer's summary.json of a completed run.</param>
public sealed record RunRecord(long Id, string Experiment, string Key, RunDefinition Definition, RunStatus Status, int Attempts,
    string? Worker, string? Process, DateTime? Started, DateTime? Heartbeat, DateTime? Finished, string? Error, string? OutDir, string? Summary);

/// <summary>How many runs an <see cref="IRunStore.Enqueue"/> call added and how many were already there.</summary>
/// <param name="Added">new runs.</param>
/// <param name="Existing">runs whose key was already stored (left as they were).</param>
public sealed record EnqueueResult(int Added, int Existing);

/// <summary>
/// Durable run bookkeeping for an experiment sweep (docs/design.md, Experiments): runs are enqueued idempotently by key,
/// claimed atomically by one worker at a time, and finished as completed or failed. Every state change made by a
/// worker names the worker and only applies while that worker still holds the run, so a worker that was declared
/// stale cannot overwrite a run another worker has since claimed. An embedded SQLite file is the default
/// (<see cref="SqliteRunStore"/>); the same contract on a database server lets workers on several machines share a sweep.
/// Implementations must be safe to use from several threads.
/// </summary>
public interface IRunStore : IDisposable
{
    /// <summary>Where the store is, for messages (a file path, or a server and database without credentials).</summary>
    string Location { get; }

    /// <summary>Add the runs that are not stored yet (by <see cref="RunDefinition.Key"/>), as queued.</summary>
    EnqueueResult Enqueue(string experiment, IReadOnlyList<RunDefinition> runs);

    /// <summary>Atomically take the oldest queued run of the experiment for <paramref name="worker"/> (status running, attempts + 1); null when none is queued.</summary>
    RunRecord? Claim(string experiment, string worker);

    /// <summary>Record the output directory and the trainer process of the attempt; false if the worker no longer holds the run.</summary>
    bool Attach(long id, string worker, string outDir, string? process);

    /// <summary>Refresh the run's heartbeat; false if the worker no longer holds the run.</summary>
    bool Heartbeat(long id, string worker);

    /// <summary>Mark the run completed with the trainer's summary; false if the worker no longer holds the run.</summary>
    bool Complete(long id, string worker, string summaryJson);

    /// <summary>Mark the run failed with its error; false if the worker no longer holds the run.</summary>
    bool Fail(long id, string worker, string error);

    /// <summary>Put a running run back in the queue (its worker died or was cancelled), noting why; false if <paramref name="worker"/> no longer holds it.</summary>
    bool Release(long id, string worker, string reason);

    /// <summary>Put every failed run of the experiment back in the queue; returns how many.</summary>
    int RequeueFailed(string experiment);

    /// <summary>
    /// Delete the runs <paramref name="ids"/> of the experiment that are queued or failed (never a running or completed
    /// one); returns how many were deleted.
    /// </summary>
    int Remove(string experiment, IReadOnlyList<long> ids);

    /// <summary>The runs of an experiment (every experiment when null), optionally only those with one status, in id order.</summary>
    IReadOnlyList<RunRecord> List(string? experiment = null, RunStatus? status = null);

    /// <summary>The experiment names present in the store.</summary>
    IReadOnlyList<string> Experiments();
}
