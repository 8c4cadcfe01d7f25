using System.Diagnostics;
using Ovis.Training;

namespace Ovis.Tests.Training;

/// <summary>
/// <c>ovis train</c> as a child process, as the experiment runner starts it: a run killed after its first checkpoint
/// and resumed writes exactly the metrics of an uninterrupted run; malformed options exit with code 2 and one line.
/// </summary>
public class TrainCommandProcessTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("ovis-train-cli-").FullName;
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "Ovis.Cli.dll");

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Cli);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    private static (int exitCode, string stdout, string stderr) Run(params string[] arguments)
    {
        using var process = Start(arguments);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "ovis train did not finish in 3 minutes");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string[] TrainArguments(string directory) => new[]
    {
        "train", "--model", "gmm", "--estimator", "ovis-gamma1", "--iw", "5", "--steps", "300", "--batch-size", "50",
        "--eval-every", "10", "--eval-iw", "20", "--eval-batch-size", "200", "--checkpoint-every", "100", "--grad-every", "100",
        "--grad-samples", "5", "--seed", "4", "--threads", "1", "--out", directory,
    };

    [Fact]
    public void KilledAndResumedRunWritesTheMetricsOfAnUninterruptedRun()
    {
        var whole = Path.Combine(root, "whole");
        var killed = Path.Combine(root, "killed");
        var (code, stdout, stderr) = Run(TrainArguments(whole));
        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.Contains("steps/s", stdout);
        Assert.True(File.Exists(Path.Combine(whole, "training-curve.png")));

        using (var process = Start(TrainArguments(killed)))
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            var checkpoint = Path.Combine(killed, Checkpoint.FileName);
            var metrics = Path.Combine(killed, MetricsLog.JsonlFile);
            var clock = Stopwatch.StartNew();
            // wait for the first checkpoint and at least one record written after it, then kill without warning
            while (!(File.Exists(checkpoint) && ReadShared(metrics).Contains("\"step\":110")) && !process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2))
                Thread.Sleep(5);
            Assert.False(process.HasExited, "the run finished before it could be killed");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        Assert.False(File.Exists(Path.Combine(killed, Trainer.SummaryFile)));
        var (resumeCode, _, resumeError) = Run("train", "--resume", "--out", killed, "--threads", "1");
        Assert.True(resumeCode == 0, $"resume exit {resumeCode}: {resumeError}");

        Assert.Equal(File.ReadAllText(Path.Combine(whole, MetricsLog.JsonlFile)), File.ReadAllText(Path.Combine(killed, MetricsLog.JsonlFile)));
        Assert.Equal(File.ReadAllText(Path.Combine(whole, MetricsLog.CsvFile)), File.ReadAllText(Path.Combine(killed, MetricsLog.CsvFile)));
        Assert.Equal(31, File.ReadAllLines(Path.Combine(killed, MetricsLog.JsonlFile)).Length);

        // a resumed run keeps its stored configuration: changing a training option is a usage error
        var (changedCode, _, changedError) = Run("train", "--resume", "--out", killed, "--iw", "7");
        Assert.Equal(2, changedCode);
        Assert.Contains("--iw", changedError);
    }

    private static string ReadShared(string path)
    {
        if (!File.Exists(path)) return "";
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new StreamReader(stream).ReadToEnd();
        }
        catch (IOException) { return ""; }
    }

    [Theory]
    [InlineData("--iw", "abc")]
    [InlineData("--warmup-mode", "cubic")]
    [InlineData("--model", "resnet")]
    [InlineData("--estimator", "ovis-gamma7")]
    [InlineData("--grad-every", "150")]
    [InlineData("--device", "cuda")]
    public void MalformedOptionsExitWithCodeTwoAndOneLine(string option, string value)
    {
        var (code, _, stderr) = Run("train", option, value, "--out", Path.Combine(root, "bad"));
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("ovis", stderr);
        Assert.False(File.Exists(Path.Combine(root, "bad", MetricsLog.JsonlFile)));
    }

    [Fact]
    public void ResumeNeedsARunDirectory()
    {
        var (code, _, stderr) = Run("train", "--resume", "--out", Path.Combine(root, "missing"));
        Assert.Equal(2, code);
        Assert.Contains("config.json", stderr);
    }
}
