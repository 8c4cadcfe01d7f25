using System.Globalization;

namespace Ovis.Experiments.Cluster;

/// <summary>
/// An experiment grid on a Slurm cluster (docs/cluster.md): submit it as one job array whose tasks work on a shared
/// PostgreSQL run store, read the array's task states beside the store's counts, and cancel it so that its runs go
/// back to the queue with their checkpoints.
/// </summary>
public sealed class SlurmExperiment
{
    private readonly Slurm slurm;
    private readonly string outRoot;

    /// <summary>The experiment's cluster side, with its output root (scripts, task logs and job records under <c>OUT/slurm</c>).</summary>
    public SlurmExperiment(Slurm slurm, string outRoot)
    {
        this.slurm = slurm;
        this.outRoot = Path.GetFullPath(outRoot);
    }

    /// <summary>
    /// Refuse a store that several nodes cannot share safely: an SQLite file on a shared file system is corrupted or
    /// deadlocked by concurrent writers on different machines (its locks rely on the file system's), so a job array needs
    /// a PostgreSQL store.
    /// </summary>
    public static void RequireSharedStore(string store)
    {
        if (!PostgresRunStore.IsConnectionString(store))
            throw new ArgumentException($"--store '{store}' is an SQLite file; Slurm tasks on several nodes writing one SQLite file over a shared file system (NFS, Lustre) corrupt or lock it; give a PostgreSQL store: --store 'Host=…;Username=…;Database=…'");
    }

    /// <summary>
    /// Enqueue <paramref name="grid"/> (one transaction), write the job script and submit it with <c>sbatch</c>.
    /// </summary>
    /// <param name="spec">the experiment.</param>
    /// <param name="grid">its runs (already checked).</param>
    /// <param name="store">the shared run store.</param>
    /// <param name="options">the scheduler options.</param>
    /// <param name="worker">the command each task runs (<c>ovis experiment work SPEC --store … --workers W --out OUT</c>).</param>
    /// <param name="log">progress lines.</param>
    public SlurmSubmission Submit(ExperimentSpec spec, IReadOnlyList<RunDefinition> grid, IRunStore store, SlurmOptions options,
                                  IReadOnlyList<string> worker, TextWriter log)
    {
        Slurm.EnsureAvailable();
        options.Validate();
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var script = Path.Combine(SlurmJobLog.Directory(outRoot), $"{spec.Name}-{stamp}.sbatch");
        SlurmJobScript.Write(script, spec.Name, SlurmJobLog.Directory(outRoot), options, worker);
        var enqueued = store.Enqueue(spec.Name, grid);
        log.WriteLine($"{spec.Name}: {grid.Count} runs in the grid ({enqueued.Added} new, {enqueued.Existing} already stored) in {store.Location}");
        string jobId;
        try
        {
            jobId = slurm.Submit(script);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{e.Message}. The runs stay queued in the store and the script is {script}: fix the cause and submit again", e);
        }
        var submission = new SlurmSubmission(spec.Name, jobId, options.ArrayTasks, DateTime.UtcNow, script);
        SlurmJobLog.Append(outRoot, submission);
        log.WriteLine($"{spec.Name}: submitted job array {jobId} ({options.ArrayTasks} tasks × {options.WorkersPerTask} worker(s)); script {script}, task output in {SlurmJobLog.Directory(outRoot)}");
        return submission;
    }

    /// <summary>Every job submitted for <paramref name="experiment"/> with the tasks Slurm still knows of it.</summary>
    public IReadOnlyList<(SlurmSubmission Job, IReadOnlyList<SlurmTask> Tasks)> Jobs(string experiment)
        => SlurmJobLog.Read(outRoot, experiment).Select(job => (job, slurm.Tasks(job.JobId))).ToArray();

    /// <summary>
    /// Cancel every job of <paramref name="experiment"/> that still has tasks, wait (up to <paramref name="wait"/>) for
    /// their tasks to end, then put back in the queue any run their workers still hold. Returns the jobs cancelled and
    /// the runs requeued.
    /// </summary>
    public (IReadOnlyList<string> Jobs, int Requeued) Cancel(string experiment, IRunStore store, TimeSpan wait, TextWriter log)
    {
        var active = Jobs(experiment).Where(j => j.Tasks.Any(t => t.IsActive)).Select(j => j.Job.JobId).ToArray();
        foreach (var job in active)
        {
            slurm.Cancel(job);
            log.WriteLine($"{experiment}: cancelled job {job}; its workers checkpoint their trainers and requeue their runs");
        }
        var deadline = DateTime.UtcNow + wait;
        while (active.Any(job => slurm.Tasks(job).Any(t => t.IsActive)) && DateTime.UtcNow < deadline) Thread.Sleep(1000);
        int requeued = 0;
        foreach (var run in store.List(experiment, RunStatus.Running))
            if (run.Worker is { } worker && active.Any(job => worker.Contains(WorkerIdentity.SlurmMarker(job) + "_", StringComparison.Ordinal)
                                                               || worker.EndsWith(WorkerIdentity.SlurmMarker(job), StringComparison.Ordinal))
                && store.Release(run.Id, worker, "requeued: its Slurm job was cancelled"))
            {
                requeued++;
                log.WriteLine($"{experiment}: run {run.Id} was still held by {worker}; requeued");
            }
        return (active, requeued);
    }
}
