using System.Diagnostics;

namespace Ovis.Experiments;

/// <summary>
/// Finds trainer processes on this host by their <c>--out DIR</c> argument (Linux: /proc/*/cmdline). A runner killed
/// between starting a trainer and recording its identity in the store leaves a trainer nobody knows by pid; it is
/// still found by the run directory it writes to, so recovery can stop it before the run is requeued.
/// </summary>
internal static class OrphanedTrainers
{
    /// <summary>Kill every process (with its descendants) whose arguments contain <c>--out</c> <paramref name="outDir"/>; returns how many.</summary>
    public static int KillWritingTo(string outDir)
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc")) return 0;
        var target = Path.GetFullPath(outDir).TrimEnd('/');
        int self = Environment.ProcessId, killed = 0;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == self) continue;
            string[] arguments;
            try { arguments = File.ReadAllText(Path.Combine(entry, "cmdline")).Split('\0'); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // gone or not ours
            bool writes = false;
            for (int i = 0; i + 1 < arguments.Length && !writes; i++)
                writes = arguments[i] == "--out" && SamePath(arguments[i + 1], target);
            if (!writes) continue;
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
                killed++;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
        }
        return killed;
    }

    private static bool SamePath(string argument, string target)
    {
        try { return Path.GetFullPath(argument).TrimEnd('/') == target; }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { return false; }
    }
}
