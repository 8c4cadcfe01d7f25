using System.Runtime.InteropServices;

namespace Ovis.Experiments;

/// <summary>POSIX signals to child processes (.NET's <c>Process.Kill</c> sends only SIGKILL).</summary>
internal static partial class Signals
{
    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>
    /// Ask process <paramref name="pid"/> to stop (SIGTERM), as a scheduler does before a time limit or preemption;
    /// false where signals are not available (Windows) or the process is gone.
    /// </summary>
    public static bool Terminate(int pid)
    {
        if (OperatingSystem.IsWindows()) return false;
        return Kill(pid, SigTerm) == 0;
    }
}
