using System.Globalization;

namespace Ovis.Training;

/// <summary>
/// Refuses, before anything is allocated, a run whose estimated memory is far beyond what the machine has: a request
/// such as K = 10⁷ particles otherwise grows for minutes and then dies inside libtorch.
/// </summary>
public static class MemoryEstimate
{
    /// <summary>The memory this process may use: the GC's view of the machine's (or container's) total memory.</summary>
    public static double AvailableBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>
    /// Throw <see cref="ArgumentException"/> when <paramref name="estimatedBytes"/> exceeds the available memory,
    /// naming the estimate, the limit, what it is made of and <paramref name="wayOut"/>.
    /// </summary>
    public static void Check(double estimatedBytes, string what, string wayOut = DefaultWayOut)
    {
        double available = AvailableBytes;
        if (estimatedBytes > available)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{what} needs about {estimatedBytes / 1e9:F1} GB by Ovis's estimate, more than this machine's {available / 1e9:F1} GB; {wayOut}"));
    }

    /// <summary>What the refusal suggests unless the caller knows better.</summary>
    public const string DefaultWayOut = "use fewer particles, a smaller batch or smaller layers";
}
