using System.Diagnostics;
using System.Globalization;

namespace Ovis.Experiments;

/// <summary>
/// A process named so that another process can later tell whether it still runs: host, pid and start time (the start
/// time guards against a recycled pid). Written as <c>host/pid/startTicks</c>.
/// </summary>
/// <param name="Host">the machine name.</param>
/// <param name="Pid">the process id.</param>
/// <param name="StartTicks">the process start time, UTC ticks.</param>
internal sealed record ProcessIdentity(string Host, int Pid, long StartTicks)
{
    /// <summary>Two start-time readings of one process may differ by rounding; larger gaps mean another process.</summary>
    private static readonly TimeSpan StartTolerance = TimeSpan.FromSeconds(2);

    /// <summary>The current process.</summary>
    public static ProcessIdentity Current { get; } = Of(Process.GetCurrentProcess());

    /// <summary>The identity of a running process.</summary>
    public static ProcessIdentity Of(Process process)
        => new(Environment.MachineName, process.Id, process.StartTime.ToUniversalTime().Ticks);

    /// <summary>The text form <c>host/pid/startTicks</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Host}/{Pid}/{StartTicks}");

    /// <summary>Parse the text form; null when it is not one.</summary>
    public static ProcessIdentity? Parse(string? text)
    {
        var parts = text?.Split('/');
        if (parts is null || parts.Length < 3) return null;
        return int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
               && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? new ProcessIdentity(parts[0], pid, ticks) : null;
    }

    /// <summary>True if the process runs, false if it does not, null if it lives on another host and cannot be checked.</summary>
    public bool? IsAlive()
    {
        if (Host != Environment.MachineName) return null;
        using var process = Find();
        return process is not null;
    }

    /// <summary>Kill the process and its descendants if it is alive on this host; true if it was killed.</summary>
    public bool KillTree()
    {
        using var process = Find();
        if (process is null) return false;
        try
        {
            process.Kill(entireProcessTree: true);
            WaitUntilGone(process, TimeSpan.FromSeconds(10));
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // exited meanwhile
        }
    }

    /// <summary>
    /// Wait until a killed process is gone. It is not our child (its runner died), so on Linux it may linger as a zombie
    /// until an init process that reaps it does so: a zombie counts as gone.
    /// </summary>
    private static void WaitUntilGone(Process process, TimeSpan timeout)
    {
        var stat = $"/proc/{process.Id}/stat";
        if (!OperatingSystem.IsLinux())
        {
            process.WaitForExit(timeout);
            return;
        }
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var text = File.ReadAllText(stat);
                var state = text[(text.LastIndexOf(')') + 2)..].TrimStart();
                if (state.StartsWith('Z') || state.StartsWith('X')) return;
            }
            catch (IOException) { return; } // no such process
            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// The processes descended from <paramref name="pid"/> now (Linux: from the parent links in /proc), so that they can
    /// still be found after their parent has gone and they were re-parented.
    /// </summary>
    public static IReadOnlyList<ProcessIdentity> Descendants(int pid)
    {
        if (!OperatingSystem.IsLinux()) return Array.Empty<ProcessIdentity>();
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var child)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                int parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parent, out var list)) children[parent] = list = new List<int>();
                list.Add(child);
            }
            catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException) { }
        }
        var result = new List<ProcessIdentity>();
        var pending = new Stack<int>(children.GetValueOrDefault(pid) ?? new List<int>());
        while (pending.Count > 0)
        {
            int next = pending.Pop();
            try
            {
                using var process = Process.GetProcessById(next);
                result.Add(Of(process));
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { continue; }
            foreach (var grandchild in children.GetValueOrDefault(next) ?? new List<int>()) pending.Push(grandchild);
        }
        return result;
    }

    private Process? Find()
    {
        if (Host != Environment.MachineName) return null;
        Process? process = null;
        try
        {
            process = Process.GetProcessById(Pid);
            var started = process.StartTime.ToUniversalTime().Ticks;
            if (!process.HasExited && Math.Abs(started - StartTicks) <= StartTolerance.Ticks) return process;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // no such process, or it exited while being inspected
        }
        process?.Dispose();
        return null;
    }
}

/// <summary>
/// A worker of an experiment runner: its process plus a worker number, written <c>host/pid/startTicks/wN</c>, and,
/// inside a Slurm job, <c>/slurm-JOB_TASK</c> (the array job and task, or the job alone), so that cancelling a job can
/// find the runs its workers held.
/// </summary>
internal static class WorkerIdentity
{
    /// <summary>The id of worker <paramref name="index"/> of the current process.</summary>
    public static string Create(int index) => $"{ProcessIdentity.Current}/w{index}{SlurmSuffix()}";

    /// <summary>The part of worker ids that names Slurm job <paramref name="jobId"/>: every task of an array job starts with it.</summary>
    public static string SlurmMarker(string jobId) => $"/slurm-{jobId}";

    private static string SlurmSuffix()
    {
        var array = Environment.GetEnvironmentVariable("SLURM_ARRAY_JOB_ID");
        var task = Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID");
        if (!string.IsNullOrEmpty(array)) return $"{SlurmMarker(array)}_{task}";
        var job = Environment.GetEnvironmentVariable("SLURM_JOB_ID");
        return string.IsNullOrEmpty(job) ? "" : SlurmMarker(job);
    }

    /// <summary>The process a worker id belongs to; null if the id was not made by <see cref="Create"/>.</summary>
    public static ProcessIdentity? ProcessOf(string? worker) => ProcessIdentity.Parse(worker);
}
