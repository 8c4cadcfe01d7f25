using Ovis.Cli;
using Ovis.Data;
using Ovis.Tests.Data;

namespace Ovis.Tests.Cli;

/// <summary><c>ovis data fetch|info|verify</c> end to end: real MNIST files served from 127.0.0.1, damaged copies, exit codes.</summary>
[Collection("Torch")]
public class DataCommandTests
{
    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (output, error) = (new StringWriter(), new StringWriter());
        Console.SetOut(output);
        Console.SetError(error);
        try { return (Program.BuildRoot().Parse(args).Invoke(), output.ToString(), error.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldError); }
    }

    [Fact]
    public void FetchFromALocalMirrorThenVerifyAndInfo()
    {
        var shared = Path.Combine(SharedDataTests.SharedDataDirectory(), "mnist");
        using var server = new FixtureHttpServer();
        foreach (var file in DatasetRegistry.Mnist.Files)
            server.Serve($"mnist/{file.FileName}.gz", File.ReadAllBytes(Path.Combine(shared, file.FileName + ".gz")));
        using var dir = new TempDirectory();
        var fetch = Run("data", "fetch", "mnist", "--data-dir", dir.Path, "--mirror", server.Url("mnist/"), "--timeout", "30");
        Assert.True(fetch.ExitCode == 0, fetch.Error);
        Assert.Contains("mnist: all 4 files verified in " + Path.Combine(dir.Path, "mnist"), fetch.Output);
        Assert.Equal(4, Directory.GetFiles(Path.Combine(dir.Path, "mnist")).Length);

        var verify = Run("data", "verify", "mnist", "--data-dir", dir.Path);
        Assert.Equal(0, verify.ExitCode);
        Assert.Equal(4, verify.Output.Split('\n').Count(l => l.TrimEnd().EndsWith("  OK")));

        var info = Run("data", "info", "mnist", "--data-dir", dir.Path);
        Assert.Equal(0, info.ExitCode);
        Assert.Contains("980/1135/1032/1010/982/892/958/1028/974/1009", info.Output);
        Assert.Contains("validation  10000", info.Output);

        // Damage one file: verify reports it and exits 1; info refuses it with exit 2 and one line naming the file.
        var damaged = Path.Combine(dir.Path, "mnist", "t10k-labels-idx1-ubyte.gz");
        var bytes = File.ReadAllBytes(damaged);
        File.WriteAllBytes(damaged, bytes[..(bytes.Length / 2)]);
        var broken = Run("data", "verify", "mnist", "--data-dir", dir.Path);
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("DAMAGED", broken.Output);
        var refused = Run("data", "info", "mnist", "--data-dir", dir.Path);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains(damaged, refused.Error);
        Assert.Single(refused.Error.Trim().Split('\n'));
    }

    [Fact]
    public void UnknownOrUnfetchableDataSetsGiveOneClearLine()
    {
        var unknown = Run("data", "info", "omniglot");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("known data sets: mnist, binarized-mnist, fashion-mnist", unknown.Error);
        var larochelle = Run("data", "fetch", "binarized-mnist");
        Assert.Equal(2, larochelle.ExitCode);
        Assert.Contains("not available offline", larochelle.Error);
    }
}
