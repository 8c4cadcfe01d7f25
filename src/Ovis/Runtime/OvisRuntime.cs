using TorchSharp;

namespace Ovis.Runtime;

/// <summary>Process-wide start-up of Ovis: the allocator fix and the thread count, applied once.</summary>
public static class OvisRuntime
{
    private static int initialized;

    /// <summary>
    /// Apply the allocator fix (before any tensor exists; <c>OVIS_DEFAULT_ALLOCATOR=1</c> skips it, for comparisons)
    /// and, when <paramref name="threads"/> is given, set the number of intra-op threads. Safe to call more than once;
    /// only the first call tunes the allocator.
    /// </summary>
    public static void Initialize(int? threads = null)
    {
        if (Interlocked.Exchange(ref initialized, 1) == 0 && Environment.GetEnvironmentVariable("OVIS_DEFAULT_ALLOCATOR") != "1")
            GlibcAllocator.KeepFreedMemory();
        if (threads is > 0) torch.set_num_threads(threads.Value);
    }

    /// <summary>Resolve a device name such as <c>cpu</c> or <c>cuda:0</c>, with a clear error when unavailable.</summary>
    public static torch.Device ResolveDevice(string name)
    {
        var device = new torch.Device(name);
        if (device.type == DeviceType.CUDA && !torch.cuda.is_available())
            throw new ArgumentException($"device '{name}' was asked for, but CUDA is not available in this build (TorchSharp-cpu); use --device cpu");
        return device;
    }
}
