using System.Runtime.InteropServices;

namespace Ovis.Runtime;

/// <summary>
/// Tunes glibc's allocator so that freed native tensor memory stays in the heap instead of being returned to the
/// operating system and page-faulted in again at the next training step (docs/platform.md §7.3–7.4).
/// </summary>
internal static class GlibcAllocator
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int param, int value);

    /// <summary>True once <see cref="KeepFreedMemory"/> has taken effect in this process.</summary>
    public static bool Applied { get; private set; }

    /// <summary>
    /// Raise the mmap threshold to 256 MiB and disable heap trimming. Must run before the first tensor is created;
    /// does nothing off Linux or where glibc is absent (musl), and is idempotent.
    /// </summary>
    public static bool KeepFreedMemory()
    {
        if (Applied) return true;
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            Applied = Mallopt(M_MMAP_THRESHOLD, 256 << 20) == 1 & Mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Applied = false;
        }
        return Applied;
    }
}
