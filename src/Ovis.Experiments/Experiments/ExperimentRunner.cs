using System.Diagnostics;
using System.Globalization;

namespace Ovis.Experiments;

/// <summary>Settings of an <see cref="ExperimentRunner"/>.</summary>
/// <param name="Workers">worker threads, each running one trainer process at a time.</param>
/// <param name="OutRoot">the experiment's output root; run directories are created under it.</param>
/// <param name="Trainer">how trainer processes are started.</param>
/// <param name="HeartbeatTimeout">a running run whose heartbeat is older than this is stale (workers beat every quarter of it).</param>
/// <param name="RequeueFailed">put failed runs back in the queue before starting.</param>
/// <param name="StopGrace">on a stop request, how long a trainer may take to write its checkpoint and exit before it is killed.</param>
public sealed record RunnerOptions(int Workers, string OutRoot, TrainerCommand Trainer, TimeSpan HeartbeatTimeout, bool RequeueFailed = false,
                                   TimeSpan? StopGrace = null)
{
    /// <summary>The default heartbeat timeout.</summary>
    public static readonly TimeSpan DefaultHeartbeatTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The default grace period of a stop: 20 s, inside Slurm's default KillWait of 30 s between SIGTERM and SIGKILL.
    /// </summary>
    public static readonly TimeSpan DefaultStopGrace = TimeSpan.FromSeconds(20);
}

/// <summary>What one <see cref="ExperimentRunner.Run"/> call did.</summary>
/// <param name="Enqueued">the enqueue result of the spec's grid.</param>
/// <param name="Recovered">stale runs recovered at start.</param>
/// <param name="RequeuedFailed">failed runs requeued at start.</param>
/// <param name="Completed">runs this call completed.</param>
/// <param name="Failed">runs this call saw fail.</param>
/// <param name="Cancelled">true when stopped before the queue was empty.</param>
public sealed record RunnerResult(EnqueueResult Enqueued, RecoveryResult Recovered, int RequeuedFailed, int Completed, int Failed, bool Cancelled);

/// <summary>
/// Runs an experiment sweep (docs/design.md, Experiments): enqueue the spec's grid (idempotent), recover runs left running
/// by a dead runner, then let N worker threads claim queued runs one at a time and execute each as a trainer child
/// process (<c>train ARGS --out DIR</c>); a worker that finds the queue empty looks for stale runs once more before it stops. Exit code 0 with a completed summary.json marks a run completed; anything else
/// marks it failed with the end of the trainer's stderr. Progress is written as plain lines (they stay readable in logs).
/// Several runner processes may share one store: claims are exclusive.
/// </summary>
public sealed class ExperimentRunner
{
    private readonly IRunStore store;
    private readonly RunnerOptions options;
    private readonly TextWriter log;
    private readonly StaleRunRecovery recovery;

    /// <summary>Create a runner on a store, writing progress lines to <paramref name="log"/>.</summary>
    public ExperimentRunner(IRunStore store, RunnerOptions options, TextWriter log)
    {
        if (options.Workers < 1) throw new ArgumentException($"--workers must be at least 1, got {options.Workers}");
        if (options.HeartbeatTimeout <= TimeSpan.Zero) throw new ArgumentException($"the heartbeat timeout must be positive, got {options.HeartbeatTimeout}");
        this.store = store;
        this.options = options;
        this.log = TextWriter.Synchronized(log);
        recovery = new StaleRunRecovery(store, options.HeartbeatTimeout);
    }

    /// <summary>Enqueue, recover, and run until no run is queued or <paramref name="cancellation"/> fires.</summary>
    public RunnerResult Run(ExperimentSpec spec, CancellationToken cancellation = default)
    {
        var grid = spec.Expand();
        var enqueued = store.Enqueue(spec.Name, grid);
        Line($"{spec.Name}: {grid.Count} runs in the grid ({enqueued.Added} new, {enqueued.Existing} already stored)");
        return Work(spec, enqueued, cancellation);
    }

    /// <summary>
    /// Work on an experiment enqueued before (e.g. by <c>ovis experiment submit</c>, as one task of a cluster job):
    /// recover stale runs, then claim and run queued runs until none is left or <paramref name="cancellation"/> fires.
    /// </summary>
    public RunnerResult Work(ExperimentSpec spec, CancellationToken cancellation = default) => Work(spec, new EnqueueResult(0, 0), cancellation);

    private RunnerResult Work(ExperimentSpec spec, EnqueueResult enqueued, CancellationToken cancellation)
    {
        var grid = spec.Expand();
        int requeuedFailed = options.RequeueFailed ? store.RequeueFailed(spec.Name) : 0;
        if (options.RequeueFailed) Line($"{spec.Name}: requeued {requeuedFailed} failed runs");
        var recovered = recovery.Recover(spec.Name, log);
        if (recovered.Requeued + recovered.Adopted > 0)
            Line($"{spec.Name}: recovered {recovered.Requeued + recovered.Adopted} runs of a stopped runner ({recovered.Requeued} requeued, {recovered.Adopted} already finished)");

        var describe = VaryingArguments(grid);
        var progress = new Progress(grid.Count, store.List(spec.Name, RunStatus.Completed).Count);
        Line($"{spec.Name}: {progress.Done}/{grid.Count} completed; {options.Workers} workers; trainer: {options.Trainer}; output under {options.OutRoot}");
        Directory.CreateDirectory(options.OutRoot);

        var threads = Enumerable.Range(1, options.Workers).Select(index =>
        {
            var thread = new Thread(() => Work(spec.Name, WorkerIdentity.Create(index), index, describe, progress, cancellation))
            {
                Name = $"ovis-worker-{index}", IsBackground = true,
            };
            thread.Start();
            return thread;
        }).ToList();
        foreach (var thread in threads) thread.Join();

        // The total comes from the store: other runners sharing it may have completed runs meanwhile.
        int completedInTotal = store.List(spec.Name, RunStatus.Completed).Count;
        Line($"{spec.Name}: this session completed {progress.Completed} and failed {progress.Failed}; {completedInTotal}/{grid.Count} completed in total"
             + (cancellation.IsCancellationRequested ? " (stopped early; run the same command to continue)" : ""));
        return new RunnerResult(enqueued, recovered, requeuedFailed, progress.Completed, progress.Failed, cancellation.IsCancellationRequested);
    }

    private void Work(string experiment, string worker, int index, IReadOnlyList<string> describe, Progress progress, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            var run = store.Claim(experiment, worker);
            if (run is null)
            {
                // the queue is empty, but runners elsewhere may have died since the start: take over their stale runs
                RecoveryResult recovered;
                lock (recovery) recovered = recovery.Recover(experiment, log);
                if (recovered.Requeued > 0) continue;
                return;
            }
            try
            {
                Execute(run, index, describe, progress, cancellation);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // One run's local failure (its folder, its process) must not bring down the other workers: record it and go on.
                store.Fail(run.Id, run.Worker!, $"the runner could not execute the run: {e.Message}");
                Line($"w{index}: run {run.Id} failed in the runner: {e.Message}");
            }
        }
    }

    private void Execute(RunRecord run, int index, IReadOnlyList<string> describe, Progress progress, CancellationToken cancellation)
    {
        var worker = run.Worker!;
        var outDir = RunDirectory.For(options.OutRoot, run.Definition);
        var label = $"run {run.Id} [{run.Definition.Describe(describe)}]";
        Directory.CreateDirectory(outDir);
        var state = RunDirectory.Inspect(outDir, run.Definition, out var detail);
        if (state == RunFolderState.Foreign)
        {
            var reason = $"{outDir} holds a different run ({detail}); nothing in it was changed: move it away, or give this grid another --out";
            if (store.Fail(run.Id, worker, reason)) progress.Fail();
            Line($"w{index}: {label} REFUSED: {reason}");
            return;
        }
        if (state == RunFolderState.Completed)
        {
            // A finished run is never repeated: a store created anew (or a run finished by hand) adopts it.
            store.Attach(run.Id, worker, outDir, null);
            if (store.Complete(run.Id, worker, RunDirectory.ReadCompletedSummary(outDir, out _)!)) progress.Complete();
            Line($"w{index}: {label} was already completed in {outDir}; adopted without training again");
            return;
        }
        bool resume = state == RunFolderState.Resumable;
        if (!resume) File.Delete(Path.Combine(outDir, RunDirectory.SummaryFile));   // a summary must come from this attempt
        File.WriteAllText(Path.Combine(outDir, RunDirectory.ArgumentsFile), run.Definition.ToJson());
        store.Attach(run.Id, worker, outDir, null);
        Line($"w{index}: {label} {(resume ? "resumed from its checkpoint" : "started")} (attempt {run.Attempts}) in {outDir}");
        var clock = Stopwatch.StartNew();
        var arguments = resume ? options.Trainer.ResumeArguments(outDir) : options.Trainer.Arguments(run.Definition, outDir);
        var exit = TrainerProcess.Run(options.Trainer, arguments, outDir,
            started: child => store.Attach(run.Id, worker, outDir, child.ToString()),
            heartbeat: () => store.Heartbeat(run.Id, worker),
            heartbeatInterval: options.HeartbeatTimeout / 4, options.StopGrace ?? RunnerOptions.DefaultStopGrace, cancellation);
        var seconds = clock.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);

        if (exit.ExitCode is >= KilledBySignal and < 256 && !exit.Cancelled && run.Attempts < MaxInterruptedAttempts)
        {
            // Killed from outside (the OOM killer, an administrator, a node daemon): the run resumes from its last checkpoint.
            store.Release(run.Id, worker, $"requeued: the trainer was killed by signal {exit.ExitCode - KilledBySignal} after {seconds} s of attempt {run.Attempts}");
            Line($"w{index}: {label} was killed by signal {exit.ExitCode - KilledBySignal} after {seconds} s; requeued to resume from its last checkpoint");
            return;
        }
        if (exit.ExitCode == TrainerCommand.NativeErrorExitCode && !exit.Cancelled && run.Attempts < MaxInterruptedAttempts)
        {
            // An error inside libtorch, possibly transient (TrainerCommand.NativeErrorExitCode): resume from the last checkpoint.
            var reason = exit.StderrTail.Split('\n').LastOrDefault(l => l.Length > 0) ?? "no stderr";
            store.Release(run.Id, worker, $"requeued: libtorch failed after {seconds} s of attempt {run.Attempts}: {reason}");
            Line($"w{index}: {label} stopped on a libtorch error after {seconds} s; requeued to resume from its last checkpoint");
            return;
        }
        if (exit.Cancelled || exit.ExitCode == TrainerCommand.StoppedExitCode)
        {
            var how = exit.ExitCode == TrainerCommand.StoppedExitCode ? "stopped with a checkpoint" : "was killed (it resumes from its last periodic checkpoint)";
            store.Release(run.Id, worker, $"requeued: the trainer {how} after {seconds} s of attempt {run.Attempts}");
            Line($"w{index}: {label} {how} after {seconds} s and requeued");
            return;
        }
        string? error = exit.StartError;
        string? summary = null;
        if (error is null && exit.ExitCode != 0)
            error = (exit.ExitCode == TrainerCommand.DivergedExitCode ? "the run diverged" : $"trainer exited with code {exit.ExitCode}")
                    + (exit.StderrTail.Length > 0 ? ":\n" + exit.StderrTail : " (no stderr)");
        if (error is null)
        {
            summary = RunDirectory.ReadCompletedSummary(outDir, out var problem);
            if (summary is null) error = $"trainer exited with code 0 but {problem}";
        }
        if (error is null && store.Complete(run.Id, worker, summary!))
        {
            progress.Complete();
            Line($"w{index}: {label} completed in {seconds} s ({progress.Done}/{progress.Total} done, {progress.Failed} failed this session{progress.Remaining()})");
        }
        else if (error is not null && store.Fail(run.Id, worker, error))
        {
            progress.Fail();
            Line($"w{index}: {label} FAILED after {seconds} s: {error.Split('\n').Last(l => l.Length > 0)}");
        }
        else
        {
            Line($"w{index}: {label} finished after {seconds} s but another runner had taken it over; result not recorded");
        }
    }

    /// <summary>Exit codes from 128 + n report a trainer killed by signal n.</summary>
    private const int KilledBySignal = 128;

    /// <summary>Attempts after which a run whose trainer keeps being killed counts as failed rather than requeued again.</summary>
    public const int MaxInterruptedAttempts = 3;

    /// <summary>The argument names whose values differ across the grid (used to label runs in progress lines).</summary>
    public static IReadOnlyList<string> VaryingArguments(IReadOnlyList<RunDefinition> grid)
        => grid.SelectMany(r => r.Arguments.Select(a => a.Name)).Distinct()
            .Where(name => grid.Select(r => r.Get(name)).Distinct().Count() > 1).ToArray();

    private void Line(string text) => log.WriteLine($"[{DateTime.Now:HH:mm:ss}] {text}");

    private sealed class Progress(int total, int initiallyDone)
    {
        private int done = initiallyDone, completed, failed;
        private readonly Stopwatch clock = Stopwatch.StartNew();
        public int Total => total;

        /// <summary>The remaining time at this session's pace (it already reflects the number of workers).</summary>
        public string Remaining()
        {
            int finished = Completed + Failed, left = total - Done - Failed;
            if (finished == 0 || left <= 0) return "";
            var remaining = clock.Elapsed / finished * left;
            return remaining.TotalMinutes >= 1 ? $", about {remaining.TotalMinutes:F0} min left" : $", about {remaining.TotalSeconds:F0} s left";
        }

        public int Done => Volatile.Read(ref done);
        public int Completed => Volatile.Read(ref completed);
        public int Failed => Volatile.Read(ref failed);
        public void Complete() { Interlocked.Increment(ref done); Interlocked.Increment(ref completed); }
        public void Fail() => Interlocked.Increment(ref failed);
    }
}
