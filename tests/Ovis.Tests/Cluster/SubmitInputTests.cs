using System.Diagnostics;
using Ovis.Experiments;

namespace Ovis.Tests.Cluster;

/// <summary>
/// <c>ovis experiment submit</c> refuses bad input with one line and a non-zero exit, before anything is enqueued or
/// submitted: an SQLite store, a missing sbatch, an unreachable PostgreSQL, malformed scheduler options.
/// </summary>
public class SubmitInputTests
{
    private static (int ExitCode, string Output, string Error) Ovis(string? path, params string[] arguments)
    {
        var info = new ProcessStartInfo(Path.Combine(Path.GetDirectoryName(Environment.ProcessPath!)!, "dotnet")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (!File.Exists(info.FileName)) info.FileName = "dotnet";
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Ovis.Cli.dll"));
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        if (path is not null) info.Environment["PATH"] = path;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)));
        return (process.ExitCode, output.Result, error.Result);
    }

    private static string Spec(TempDirectory directory)
        => directory.Write("s.json", """{ "name": "s", "global": { "model": "gmm", "steps": 10 }, "estimators": [ { "estimator": "reinforce" } ] }""");

    [Fact]
    public void AnSqliteStoreIsRefusedForAJobArray()
    {
        using var directory = new TempDirectory();
        var (code, _, error) = Ovis(null, "experiment", "submit", Spec(directory), "--store", directory.File("s.sqlite"), "--array", "2");
        Assert.Equal(2, code);
        Assert.Contains("is an SQLite file", error);
        Assert.Contains("give a PostgreSQL store", error);
        Assert.False(File.Exists(directory.File("s.sqlite")));
    }

    [Fact]
    public void AMissingSbatchIsNamedWithItsPackage()
    {
        using var directory = new TempDirectory();
        var (code, _, error) = Ovis("/nonexistent", "experiment", "submit", Spec(directory), "--store", "Host=/tmp/nowhere;Username=x;Database=y", "--array", "2");
        Assert.Equal(1, code);
        Assert.Contains("sbatch is not on PATH", error);
        Assert.Contains("apt-get install slurm-client", error);
    }

    [SkippableFact]
    public void AnUnreachablePostgresFailsAtOnceAndEnqueuesNothing()
    {
        Skip.IfNot(TrainerCommand.ProgramExists("sbatch"), "sbatch is checked before the store: without it this case cannot be reached");
        using var directory = new TempDirectory();
        var clock = Stopwatch.StartNew();
        var (code, _, error) = Ovis(null, "experiment", "submit", Spec(directory), "--store", $"Host={directory.Path};Port=1;Username=x;Database=y", "--array", "2", "--out", directory.File("out"));
        Assert.Equal(1, code);
        Assert.Contains("cannot open the PostgreSQL run store", error);
        Assert.Contains("nothing was enqueued", error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.False(Directory.Exists(Path.Combine(directory.File("out"), "slurm")));
    }

    [Theory]
    [InlineData("--array", "0", "--array must be at least 1")]
    [InlineData("--sbatch-arg", "account=lab", "--sbatch-arg takes one sbatch option per use")]
    [InlineData("--cpus-per-task", "0", "--cpus-per-task must be at least 1")]
    public void MalformedSchedulerOptionsAreRefused(string option, string value, string message)
    {
        using var directory = new TempDirectory();
        var arguments = new List<string> { "experiment", "submit", Spec(directory), "--store", "Host=/tmp/nowhere;Username=x;Database=y" };
        if (option != "--array") arguments.AddRange(new[] { "--array", "2" });
        arguments.AddRange(new[] { option, value });
        var (code, _, error) = Ovis(null, arguments.ToArray());
        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }
}
