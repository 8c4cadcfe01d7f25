using System.Runtime.CompilerServices;

namespace Ovis.Tests;

/// <summary>
/// Applies the allocator fix once when the test assembly loads, before any tensor exists, and points the data search
/// (<c>$OVIS_DATA_DIR</c>) at the data sets beside the checkout when nothing else is set, as a user would.
/// </summary>
internal static class TestStartup
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        Ovis.Runtime.OvisRuntime.Initialize();
        var shared = Path.GetFullPath(Path.Combine(RepositoryPaths.Root, "..", "shared", "data"));
        if (Environment.GetEnvironmentVariable("OVIS_DATA_DIR") is null && Directory.Exists(shared))
            Environment.SetEnvironmentVariable("OVIS_DATA_DIR", shared);
    }
}
