using System.Runtime.CompilerServices;

namespace Ovis.Tests;

/// <summary>Applies the allocator fix once when the test assembly loads, before any tensor exists.</summary>
internal static class TestStartup
{
    [ModuleInitializer]
    internal static void Initialize() => Ovis.Runtime.OvisRuntime.Initialize();
}
