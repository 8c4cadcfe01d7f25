using System.Text.Json.Nodes;
using Ovis.Experiments;

namespace Ovis.Tests.Cli;

/// <summary>
/// The fault catalogue: bad inputs a user hits, each with its expected outcome — refused before any work with one
/// line naming the value (exit 2), or detected when it happens (a diverged run: exit 4, status diverged; a damaged
/// checkpoint: named with the way out). The simple cases are one table; the ones that need files prepared follow it.
/// Earlier fixes and the refusals that already worked are kept here so that they stay fixed.
/// </summary>
[Collection("Torch")]
public class FaultCatalogueTests
{
    /// <summary>(name, arguments, expected exit code, a fragment the one-line error must contain).</summary>
    public static TheoryData<string, string[], int, string> Cases() => new()
    {
        { "unknown estimator", new[] { "train", "--estimator", "vimco", "--check" }, 2, "unknown estimator id 'vimco'. Valid forms:" },
        { "malformed estimator", new[] { "train", "--estimator", "ovis-gamma2", "--check" }, 2, "γ of OVIS~ must lie in [0, 1]" },
        { "unknown model", new[] { "train", "--model", "nope", "--check" }, 2, "unknown model 'nope'; known models: gmm" },
        { "unknown option", new[] { "train", "--iww", "5" }, 2, "Unrecognized command or argument '--iww'" },
        { "K = 0", new[] { "train", "--iw", "0", "--check" }, 2, "--iw (K) must be at least 1, got 0" },
        { "negative lr", new[] { "train", "--lr", "-1", "--check" }, 2, "--lr must be a positive number, got -1" },
        { "alpha = 1", new[] { "train", "--alpha", "1", "--check" }, 2, "--alpha must lie in [0, 1), got 1" },
        { "grad-every not a multiple", new[] { "train", "--eval-every", "100", "--grad-every", "150", "--check" }, 2, "must be a multiple of --eval-every" },
        { "warm-up mode", new[] { "train", "--warmup-mode", "cosine", "--check" }, 2, "--warmup-mode must be log or linear, got 'cosine'" },
        { "threads 0", new[] { "train", "--threads", "0" }, 2, "--threads must be at least 1, got 0" },
        { "64-bit seed", new[] { "train", "--seed", "4294967297", "--check" }, 2, "--seed 4294967297 is too large" },
        { "S > K", new[] { "train", "--estimator", "ovis-S100", "--iw", "20", "--check" }, 2, "needs S ≤ K − 1 = 19" },
        { "S = K", new[] { "train", "--estimator", "ovis-S20", "--iw", "20", "--check" }, 2, "takes S = 20 auxiliary particles out of K = 20" },
        { "pathwise on a discrete model", new[] { "train", "--model", "gmm", "--estimator", "dreg", "--check" }, 2, "estimator 'dreg' needs reparameterised samples, but model 'gmm' has discrete latents" },
        { "vae layers", new[] { "train", "--model", "vae", "--layers", "5", "--check" }, 2, "--layers for the vae is 'N,H'" },
        { "huge K", new[] { "train", "--iw", "10000000", "--batch-size", "1", "--check" }, 2, "GB by Ovis's estimate, more than this machine's" },
        { "huge layers", new[] { "train", "--model", "sbn", "--layers", "100000,100000", "--check" }, 2, "GB by Ovis's estimate, more than this machine's" },
        { "huge K with chunks as the way out", new[] { "train", "--model", "sbn", "--iw", "500000", "--check" }, 2, "or score the particles a chunk at a time (--particle-chunk C)" },
        { "unknown data set", new[] { "train", "--model", "sbn", "--dataset", "cifar", "--check" }, 2, "unknown data set 'cifar'" },
        { "binarisation", new[] { "train", "--model", "sbn", "--binarization", "otsu", "--check" }, 2, "--binarization must be default, dynamic, static or threshold" },
        { "resume without --out", new[] { "train", "--resume" }, 2, "--resume needs --out DIR" },
        { "resume of no run", new[] { "train", "--resume", "--out", "/nonexistent-ovis-run" }, 2, "/nonexistent-ovis-run/config.json does not exist" },
        { "gradients: an estimator twice", new[] { "gradients", "--estimators", "reinforce,reinforce", "--out", "/tmp/ovis-never" }, 2, "--estimators names reinforce twice" },
        { "gradients: no estimator", new[] { "gradients", "--estimators", "", "--out", "/tmp/ovis-never" }, 2, "--estimators names no estimator" },
        { "gradients: another model", new[] { "gradients", "--model", "gmm", "--out", "/tmp/ovis-never" }, 2, "--model must be gaussian-toy" },
        { "verify: unknown estimator", new[] { "verify", "--estimators", "nope" }, 2, "unknown estimator id 'nope'" },
        { "spec is a folder", new[] { "experiment", "run", "/tmp" }, 2, "experiment spec '/tmp' is a folder" },
        { "spec is missing", new[] { "experiment", "run", "/nonexistent-spec.json" }, 2, "experiment spec '/nonexistent-spec.json' does not exist" },
        { "requeue value", new[] { "experiment", "run", "/tmp/x.json", "--requeue", "all" }, 2, "--requeue accepts only 'failed'" },
        { "evaluate: no run", new[] { "evaluate", "--run", "/nonexistent-ovis-run" }, 2, "config.json does not exist; is /nonexistent-ovis-run a run directory?" },
        { "bench: unknown model", new[] { "bench", "--model", "nope" }, 2, "unknown model 'nope'" },
        { "data: unknown set", new[] { "data", "fetch", "nosuch" }, 2, "unknown data set 'nosuch'" },
        { "--nsteps on an endless stream", new[] { "train", "--model", "gmm", "--nsteps", "20000", "--check" }, 2, "model 'gmm' trains on an endless stream: give --steps" },
        { "--steps and --nsteps", new[] { "train", "--model", "sbn", "--steps", "5", "--nsteps", "20000", "--check" }, 2, "give --steps or --nsteps, not both" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void IsRefusedWithOneLine(string name, string[] arguments, int exitCode, string fragment)
    {
        var (code, _, error) = CliRunner.Run(arguments);
        Assert.True(code == exitCode, $"{name}: exit {code}, expected {exitCode}; stderr: {error}");
        Assert.Contains(fragment, error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>A small GMM run to tamper with: 200 steps, checkpoints every 100.</summary>
    private static string TrainedRun(TempDirectory directory, string name = "run")
    {
        var folder = directory.File(name);
        var (code, _, error) = CliRunner.Run("train", "--model", "gmm", "--iw", "5", "--steps", "200", "--eval-every", "100", "--eval-iw", "10",
                                             "--eval-points", "50", "--checkpoint-every", "100", "--grad-every", "0", "--out", folder);
        Assert.True(code == 0, error);
        return folder;
    }

    private static void EditConfig(string folder, Action<JsonObject> edit)
    {
        var path = Path.Combine(folder, "config.json");
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    [Theory]
    [InlineData("estimator", "\"vimco-arithmetic\"", "estimator 'ovis-gamma1' → 'vimco-arithmetic'")]
    [InlineData("particles", "7", "particles 5 → 7")]
    [InlineData("steps", "150", "steps 200 → 150")]
    [InlineData("model", "\"gaussian-toy\"", "model 'gmm' → 'gaussian-toy'")]
    public void ResumeRefusesAConfigurationEditedSinceTheCheckpoint(string field, string value, string fragment)
    {
        using var directory = new TempDirectory();
        var folder = TrainedRun(directory);
        EditConfig(folder, node => node[field] = JsonNode.Parse(value));
        var (code, _, error) = CliRunner.Run("train", "--resume", "--out", folder);
        Assert.Equal(2, code);
        Assert.Contains("belongs to a different run than this configuration", error);
        Assert.Contains(fragment, error);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.0)]
    public void ADamagedCheckpointIsNamedWithThePreviousOneAsTheWayOut(double kept)
    {
        using var directory = new TempDirectory();
        var folder = TrainedRun(directory);
        var checkpoint = Path.Combine(folder, "checkpoint.bin");
        var bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(checkpoint, bytes[..(int)(bytes.Length * kept)]);
        foreach (var arguments in new[] { new[] { "train", "--resume", "--out", folder }, new[] { "evaluate", "--run", folder, "--iw", "5" } })
        {
            var (code, _, error) = CliRunner.Run(arguments);
            Assert.Equal(2, code);
            Assert.Contains($"checkpoint {checkpoint} is damaged", error);
            Assert.Contains("checkpoint.prev.bin is kept: move it over", error);
        }
    }

    [Fact]
    public void ResumeWithoutACheckpointIsRefusedInsteadOfRestarting()
    {
        using var directory = new TempDirectory();
        var folder = TrainedRun(directory);
        File.Delete(Path.Combine(folder, "checkpoint.bin"));
        var (code, output, error) = CliRunner.Run("train", "--resume", "--out", folder);
        Assert.Equal(2, code);
        Assert.Contains("there is nothing to resume", error);
        Assert.DoesNotContain("(resuming", output);
    }

    [Fact]
    public void ADivergedRunStopsWithStatusDivergedAndExitFour()
    {
        using var directory = new TempDirectory();
        var folder = directory.File("diverged");
        var (code, _, error) = CliRunner.Run("train", "--model", "vae", "--estimator", "pathwise", "--layers", "5,20", "--lr", "1e3", "--steps", "60",
                                             "--eval-every", "20", "--eval-points", "50", "--train-eval-points", "0", "--final-eval-iw", "0", "--iw", "5", "--out", folder);
        Assert.Equal(4, code);
        Assert.Contains("training diverged at step", error);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")))!;
        Assert.Equal("diverged", summary["status"]!.GetValue<string>());
        Assert.Contains("is not finite", summary["error"]!.GetValue<string>());
        Assert.NotEmpty(File.ReadAllLines(Path.Combine(folder, "metrics.jsonl")));      // the records before it are kept
    }

    [Fact]
    public void AFullDiskAtACheckpointFailsTheRunWithOneLine()
    {
        using var directory = new TempDirectory();
        var folder = directory.File("full");
        Directory.CreateDirectory(folder);
        File.CreateSymbolicLink(Path.Combine(folder, "checkpoint.bin.tmp"), "/dev/full");    // writes there fail with ENOSPC
        var (code, _, error) = CliRunner.Run("train", "--model", "gmm", "--iw", "5", "--steps", "100", "--eval-every", "50", "--eval-iw", "10",
                                             "--eval-points", "50", "--checkpoint-every", "50", "--grad-every", "0", "--out", folder);
        Assert.Equal(1, code);
        Assert.Contains("No space left on device", error);
        Assert.Equal("failed", JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "summary.json")))!["status"]!.GetValue<string>());
    }

    [Fact]
    public void ReportRefusesAnUnknownReductionAnUnknownColumnAndKeepsTwoReductionsApart()
    {
        using var directory = new TempDirectory();
        var spec = directory.Write("r.json", """{ "name": "r", "global": { "steps": 2 }, "parameters": { "iw": [2, 5] }, "estimators": [ { "estimator": "reinforce" } ] }""");
        using (var store = new SqliteRunStore(directory.File("r.sqlite"))) store.Enqueue("r", ExperimentSpec.Load(spec).Expand());
        var median = CliRunner.Run("experiment", "report", spec, "--metrics", "test:loss/L_k:median", "--out", directory.File("report"));
        Assert.Equal(2, median.exitCode);
        Assert.Contains("'median' is not a reduction; use min, max, mean or last", median.stderr);
        var bogus = CliRunner.Run("experiment", "report", spec, "--columns", "bogus", "--out", directory.File("report"));
        Assert.Equal(2, bogus.exitCode);
        Assert.Contains("--columns 'bogus' is not an argument of r's runs", bogus.stderr);
        var twice = new[] { MetricSpec.Parse("test:loss/L_k:max"), MetricSpec.Parse("test:loss/L_k:last") };
        Assert.NotEqual(ReportFigures.FileName(twice[0], twice), ReportFigures.FileName(twice[1], twice));
    }

    [Theory]
    [InlineData("mnist", "20000", 20840)]
    [InlineData("mnist", "4000000", 4001280)]
    [InlineData("fashion-mnist", "20000", 22500)]
    public void NstepsTrainsTheReferencesWholeEpochs(string dataset, string nsteps, long steps)
    {
        var (code, output, error) = CliRunner.Run("train", "--model", "sbn", "--dataset", dataset, "--nsteps", nsteps, "--check");
        Assert.True(code == 0, error);
        Assert.Contains($"\"steps\": {steps},", output);
    }

    [Fact]
    public void ASpecListingOneValueTwiceIsRefused()
    {
        using var directory = new TempDirectory();
        var spec = directory.Write("d.json", """{ "name": "d", "parameters": { "lr": [0.001, 1e-3] }, "estimators": [ { "estimator": "reinforce" } ] }""");
        var (code, _, error) = CliRunner.Run("experiment", "run", spec);
        Assert.Equal(2, code);
        Assert.Contains("parameters.lr lists the same value twice, as 0.001 and 1e-3", error);
    }
}
