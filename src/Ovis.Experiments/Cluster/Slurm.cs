using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Ovis.Experiments.Cluster;

/// <summary>
/// Slurm's command-line tools as Ovis uses them: <c>sbatch</c> to submit a job array, <c>squeue</c> to read its tasks'
/// states, <c>scancel</c> to cancel it. Each call has a time limit and turns a failure into one clear message.
/// </summary>
public sealed class Slurm
{
    private readonly TimeSpan timeout;

    /// <summary>Use the Slurm tools on PATH, each call allowed <paramref name="timeout"/> (default 2 minutes).</summary>
    public Slurm(TimeSpan? timeout = null) => this.timeout = timeout ?? TimeSpan.FromMinutes(2);

    /// <summary>Refuse to go on without <c>sbatch</c>, naming the package that has it.</summary>
    public static void EnsureAvailable()
    {
        if (!TrainerCommand.ProgramExists("sbatch"))
            throw new InvalidOperationException("sbatch is not on PATH: Slurm's client tools are needed to submit (on Debian: apt-get install slurm-client, or slurm-wlm for a whole cluster)");
    }

    /// <summary>Submit <paramref name="script"/> with <c>sbatch --parsable</c>; returns the job id.</summary>
    public string Submit(string script)
    {
        var (code, output, error) = RunTool("sbatch", "--parsable", script);
        if (code != 0) throw new InvalidOperationException($"sbatch refused the job (exit {code}): {FirstLine(error, output)}");
        var id = output.Trim().Split(';')[0];
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            throw new InvalidOperationException($"sbatch answered '{output.Trim()}' instead of a job id");
        return id;
    }

    /// <summary>
    /// Every task of job <paramref name="jobId"/> Slurm still knows (<c>squeue -r -t all</c>), one per array task; an
    /// empty list when the job has left Slurm's memory (MinJobAge after its end).
    /// </summary>
    public IReadOnlyList<SlurmTask> Tasks(string jobId)
    {
        var (code, output, error) = RunTool("squeue", "-h", "-r", "-t", "all", "-j", jobId, "-o", "%i|%T|%r");
        if (code != 0)
        {
            if ((error + output).Contains("Invalid job id", StringComparison.OrdinalIgnoreCase)) return Array.Empty<SlurmTask>();
            throw new InvalidOperationException($"squeue failed (exit {code}): {FirstLine(error, output)}");
        }
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('|'))
            .Where(parts => parts.Length >= 2)
            .Select(parts => new SlurmTask(parts[0], parts[1], parts.Length > 2 && parts[2] != "None" ? parts[2] : ""))
            .ToArray();
    }

    /// <summary>
    /// Cancel job <paramref name="jobId"/> (every task): Slurm sends SIGTERM to the tasks' processes, then SIGKILL after
    /// its KillWait; the workers use the interval to checkpoint their trainers and requeue their runs.
    /// </summary>
    public void Cancel(string jobId)
    {
        var (code, output, error) = RunTool("scancel", jobId);
        if (code != 0) throw new InvalidOperationException($"scancel {jobId} failed (exit {code}): {FirstLine(error, output)}");
    }

    private (int code, string output, string error) RunTool(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{program} could not be run ({e.Message}); is Slurm's client installed and on PATH?", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw new InvalidOperationException($"{program} {string.Join(" ", arguments)} did not answer within {timeout.TotalSeconds:F0} s; is slurmctld reachable?");
            }
            process.WaitForExit();
            return (process.ExitCode, output.Result, error.Result);
        }
    }

    private static string FirstLine(string error, string output)
    {
        var text = (error.Trim().Length > 0 ? error : output).Trim();
        return text.Length == 0 ? "(no message)" : text.Split('\n')[0].Trim();
    }
}
