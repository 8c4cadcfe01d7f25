using System.ComponentModel;
using System.Diagnostics;

namespace Ovis.Experiments;

/// <summary>How one trainer process ended.</summary>
/// <param name="ExitCode">the exit code (null when it could not be started or was cancelled).</param>
/// <param name="StderrTail">the last lines of its standard error.</param>
/// <param name="StartError">why it could not be started, if so.</param>
/// <param name="Cancelled">true when the runner stopped it because it was asked to stop (the exit code says whether the
/// trainer stopped by itself with a checkpoint, <see cref="TrainerCommand.StoppedExitCode"/>, or had to be killed: null).</param>
internal sealed record TrainerExit(int? ExitCode, string StderrTail, string? StartError, bool Cancelled);

/// <summary>
/// Runs one trainer child process: its standard output and error go to <c>stdout.log</c> and <c>stderr.log</c> in the run
/// directory, the last <see cref="TailLines"/> lines of standard error are kept for the error message, and a heartbeat
/// callback fires while it runs. Cancelling asks the trainer to stop (SIGTERM: it writes a checkpoint at the next step
/// and exits), waits up to a grace period, then kills the whole process tree.
/// </summary>
internal static class TrainerProcess
{
    /// <summary>How many stderr lines a failure message keeps.</summary>
    public const int TailLines = 20;

    /// <summary>Run the trainer to its end (or until cancelled); <paramref name="started"/> receives the child's identity once it runs.</summary>
    public static TrainerExit Run(TrainerCommand command, IReadOnlyList<string> arguments, string outDir, Action<ProcessIdentity> started,
        Action heartbeat, TimeSpan heartbeatInterval, TimeSpan stopGrace, CancellationToken cancellation)
    {
        var info = new ProcessStartInfo(command.Program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var stdout = new StreamWriter(Path.Combine(outDir, "stdout.log"), append: true) { AutoFlush = true };
        using var stderr = new StreamWriter(Path.Combine(outDir, "stderr.log"), append: true) { AutoFlush = true };
        var tail = new Queue<string>();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr)
            {
                stderr.WriteLine(e.Data);
                tail.Enqueue(e.Data);
                while (tail.Count > TailLines) tail.Dequeue();
            }
        };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException)
        {
            return new TrainerExit(null, "", $"cannot start '{command.Program}': {e.Message}", false);
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try { started(ProcessIdentity.Of(process)); }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception)
        {
            /* exited before its start time could be read (a fast trainer): its exit code still counts */
        }

        var lastBeat = Stopwatch.StartNew();
        while (!process.WaitForExit(200))
        {
            if (cancellation.IsCancellationRequested)
            {
                // Its descendants are noted first: if the trainer exits on SIGTERM and leaves children behind, they are
                // re-parented and must still be found and killed (they would also hold its output pipes open).
                var descendants = ProcessIdentity.Descendants(process.Id);
                int? code = null;
                if (Signals.Terminate(process.Id) && process.WaitForExit(stopGrace)) code = process.ExitCode;
                else
                    try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                foreach (var descendant in descendants) descendant.KillTree();
                process.WaitForExit(TimeSpan.FromSeconds(10));
                return new TrainerExit(code, Tail(), null, true);
            }
            if (lastBeat.Elapsed >= heartbeatInterval)
            {
                heartbeat();
                lastBeat.Restart();
            }
        }
        process.WaitForExit(); // drain the asynchronous output readers
        return new TrainerExit(process.ExitCode, Tail(), null, false);

        string Tail()
        {
            lock (stderr) return string.Join("\n", tail);
        }
    }
}
