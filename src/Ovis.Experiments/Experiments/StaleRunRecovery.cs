namespace Ovis.Experiments;

/// <summary>What recovering stale runs did.</summary>
/// <param name="Requeued">stale runs put back in the queue.</param>
/// <param name="Adopted">stale runs whose trainer had finished and written a completed summary, marked completed without re-running.</param>
/// <param name="OrphansKilled">trainer processes of dead workers that were still running and were killed.</param>
public sealed record RecoveryResult(int Requeued, int Adopted, int OrphansKilled);

/// <summary>
/// Finds runs left "running" by a runner that no longer works on them, so a killed sweep can be resumed by running the
/// same command again. A run is stale when its worker's process is gone (checked by pid and start time on this host)
/// or its heartbeat is older than the timeout (the only test possible for workers on other hosts). A stale run's
/// orphaned trainer, if still alive on this host, is killed first; then, if that trainer had already written a
/// completed summary.json, the run is marked completed (a finished run is never repeated), otherwise it is requeued.
/// </summary>
public sealed class StaleRunRecovery
{
    private readonly IRunStore store;
    private readonly TimeSpan heartbeatTimeout;

    /// <summary>Create the recovery for a store; runs whose heartbeat is older than <paramref name="heartbeatTimeout"/> are stale.</summary>
    public StaleRunRecovery(IRunStore store, TimeSpan heartbeatTimeout)
    {
        if (heartbeatTimeout <= TimeSpan.Zero) throw new ArgumentException($"the heartbeat timeout must be positive, got {heartbeatTimeout}");
        this.store = store;
        this.heartbeatTimeout = heartbeatTimeout;
    }

    /// <summary>True if the run's worker is dead or silent for longer than the timeout.</summary>
    public bool IsStale(RunRecord run, DateTime utcNow)
    {
        if (run.Status != RunStatus.Running) return false;
        if (WorkerIdentity.ProcessOf(run.Worker)?.IsAlive() == false) return true;
        return run.Heartbeat is null || utcNow - run.Heartbeat.Value > heartbeatTimeout;
    }

    /// <summary>Recover every stale run of the experiment, writing one line per recovered run to <paramref name="log"/>.</summary>
    public RecoveryResult Recover(string experiment, TextWriter log)
    {
        int requeued = 0, adopted = 0, killed = 0;
        foreach (var run in store.List(experiment, RunStatus.Running))
        {
            if (!IsStale(run, DateTime.UtcNow)) continue;
            if (ProcessIdentity.Parse(run.Process)?.KillTree() == true)
            {
                killed++;
                log.WriteLine($"run {run.Id}: killed the orphaned trainer {run.Process} of dead worker {run.Worker}");
            }
            // A trainer started just before its runner died may not be in the store yet: find it by its run folder.
            if (run.OutDir is not null && WorkerIdentity.ProcessOf(run.Worker)?.IsAlive() == false && OrphanedTrainers.KillWritingTo(run.OutDir) is > 0 and var found)
            {
                killed += found;
                log.WriteLine($"run {run.Id}: killed {found} unrecorded trainer(s) writing to {run.OutDir} for dead worker {run.Worker}");
            }
            var summary = run.OutDir is null ? null : RunDirectory.ReadCompletedSummary(run.OutDir, out _);
            if (summary is not null && store.Complete(run.Id, run.Worker!, summary))
            {
                adopted++;
                log.WriteLine($"run {run.Id}: worker {run.Worker} stopped after its trainer finished; recorded as completed");
            }
            else if (store.Release(run.Id, run.Worker!, $"requeued: worker {run.Worker} stopped during attempt {run.Attempts}"))
            {
                requeued++;
                log.WriteLine($"run {run.Id}: worker {run.Worker} stopped during the run; requeued");
            }
        }
        return new RecoveryResult(requeued, adopted, killed);
    }
}
