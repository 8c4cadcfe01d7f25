namespace Ovis.Tests;

public class TestHostSettingsTests
{
    /// <summary>test.runsettings reaches the test host: its larger gen-0 budget keeps collections (and with them
    /// TorchSharp's implicit-Scalar finaliser race, docs/platform.md §5.5) rare.</summary>
    [Fact]
    public void TheTestHostRunsWithTheLargerGenerationZeroBudget()
        => Assert.Equal("0x10000000", Environment.GetEnvironmentVariable("DOTNET_GCgen0size"));
}
