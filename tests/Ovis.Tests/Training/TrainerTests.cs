using System.Text.Json.Nodes;
using Ovis.Catalog;
using Ovis.Training;

namespace Ovis.Tests.Training;

[Collection("Torch")]
public class TrainerTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("ovis-trainer-").FullName;
    private readonly int threads = TorchSharp.torch.get_num_threads();

    // One intra-op thread, as `ovis train` uses by default: these tiny models only lose time to thread contention.
    public TrainerTests() => TorchSharp.torch.set_num_threads(1);

    public void Dispose()
    {
        TorchSharp.torch.set_num_threads(threads);
        Directory.Delete(root, recursive: true);
    }

    private static readonly TrainingConfiguration Small = new()
    {
        Model = "gmm", Estimator = "ovis-gamma1", Particles = 5, Steps = 300, BatchSize = 50, EvaluateEvery = 20,
        EvaluationParticles = 20, EvaluationBatchSize = 200, CheckpointEvery = 100, GradientEvery = 100, GradientSamples = 5,
        GradientBatchSize = 20, Seed = 3,
    };

    [Fact]
    public void RunWritesTheRunnerContract()
    {
        var directory = Path.Combine(root, "run");
        CatalogRuns.Train(Small with { Steps = 60 }, directory);
        var lines = File.ReadAllLines(Path.Combine(directory, MetricsLog.JsonlFile));
        Assert.Equal(new long[] { 0, 20, 40, 60 }, lines.Select(l => JsonNode.Parse(l)!["step"]!.GetValue<long>()).ToArray());
        var last = JsonNode.Parse(lines[^1])!["metrics"]!.AsObject();
        foreach (var key in new[] { "alpha", "lr", "train:loss/L_k", "test:loss/L_k", "test:loss/ess", GaussianMixtureMetrics.PosteriorErrorKey, GaussianMixtureMetrics.PriorErrorKey })
            Assert.True(last.ContainsKey(key), $"missing {key}");
        Assert.False(last.ContainsKey("grads/snr"));                    // 60 is not a multiple of grad-every 100
        Assert.True(JsonNode.Parse(lines[0])!["metrics"]!.AsObject().ContainsKey("grads/snr"));   // step 0 is

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, Trainer.SummaryFile)))!.AsObject();
        Assert.Equal("completed", summary["status"]!.GetValue<string>());
        Assert.Equal(60, summary["steps"]!.GetValue<long>());
        Assert.Equal(4, summary["evaluations"]!.GetValue<int>());
        Assert.True(summary["steps_per_second"]!.GetValue<double>() > 0);
        double final = summary["final"]![GaussianMixtureMetrics.PosteriorErrorKey]!.GetValue<double>();
        Assert.True(summary["min"]![GaussianMixtureMetrics.PosteriorErrorKey]!.GetValue<double>() <= final);
        Assert.Equal(5, File.ReadAllLines(Path.Combine(directory, MetricsLog.CsvFile)).Length);   // header + 4 rows
        Assert.True(File.Exists(Path.Combine(directory, Trainer.CheckpointFile)));
        Assert.True(File.Exists(Path.Combine(directory, Trainer.ConfigurationFile)));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(directory, MetricsLog.TensorBoardFolder), "events.out.tfevents.*"));
    }

    [Fact]
    public void StoppedAndResumedRunEqualsAnUninterruptedOneBitForBit()
    {
        var whole = Path.Combine(root, "whole");
        var pieces = Path.Combine(root, "pieces");
        CatalogRuns.Train(Small, whole);
        // stop after 130 steps: the checkpoint is at 100, records 120 were written after it and must be cut off
        Assert.Equal("stopped", CatalogRuns.Train(Small, pieces, stopAfterSteps: 130).Status);
        Assert.Contains("\"step\":120", File.ReadAllText(Path.Combine(pieces, MetricsLog.JsonlFile)));
        CatalogRuns.Train(Small, pieces, resume: true, stopAfterSteps: 90);   // 100 → 190
        CatalogRuns.Train(Small, pieces, resume: true);                       // 100 → 300
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, MetricsLog.JsonlFile)), File.ReadAllBytes(Path.Combine(pieces, MetricsLog.JsonlFile)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, MetricsLog.CsvFile)), File.ReadAllBytes(Path.Combine(pieces, MetricsLog.CsvFile)));
    }

    [Fact]
    public void GaussianToyTrainsAndResumesExactly()
    {
        var config = Small with { Model = "gaussian-toy", Estimator = "ovis-gamma0", Steps = 60, EvaluateEvery = 10, CheckpointEvery = 20, GradientEvery = 0, BatchSize = 100 };
        var whole = Path.Combine(root, "toy-whole");
        var pieces = Path.Combine(root, "toy-pieces");
        CatalogRuns.Train(config, whole);
        CatalogRuns.Train(config, pieces, stopAfterSteps: 35);
        CatalogRuns.Train(config, pieces, resume: true);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, MetricsLog.JsonlFile)), File.ReadAllBytes(Path.Combine(pieces, MetricsLog.JsonlFile)));
        var first = TrainingSummary.ReadRecords(Path.Combine(whole, MetricsLog.JsonlFile))[0].metrics["gaussian_toy/mse_phi"];
        var last = TrainingSummary.ReadRecords(Path.Combine(whole, MetricsLog.JsonlFile))[^1].metrics["gaussian_toy/mse_phi"];
        Assert.True(last < first, $"‖φ − φ*‖ went from {first} to {last}");
    }

    [Fact]
    public void AnEstimatorsOwnParametersAreTrainedCheckpointedAndResumedBitForBit()
    {
        var config = Small with { Estimator = "reinforce-baseline", Particles = 20, Steps = 200, EvaluateEvery = 50, CheckpointEvery = 50, GradientEvery = 0 };
        var whole = Path.Combine(root, "baseline-whole");
        var pieces = Path.Combine(root, "baseline-pieces");
        using (var run = CatalogRun.Create(config, whole))
        {
            var psi = run.Trainer.EstimatorParameters;
            Assert.Equal(4, psi.Count);                                          // the baseline's two Linear layers
            var before = psi.Select(p => p.detach().clone()).ToArray();
            run.Trainer.Run(resume: false);
            Assert.All(psi.Zip(before), pair => Assert.False(pair.First.detach().eq(pair.Second).all().item<bool>()));   // ψ was trained
        }
        CatalogRuns.Train(config, pieces, stopAfterSteps: 120);                   // checkpoint at 100
        CatalogRuns.Train(config, pieces, resume: true);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, Trainer.MetricsFile)), File.ReadAllBytes(Path.Combine(pieces, Trainer.MetricsFile)));
        // the baseline fits the learning signal: its mean squared error falls from the first training record to the last
        var records = TrainingSummary.ReadRecords(Path.Combine(whole, Trainer.MetricsFile));
        double first = records[1].metrics["train:reinforce/mse"], last = records[^1].metrics["train:reinforce/mse"];
        Assert.True(last < first, $"baseline MSE went from {first} to {last}");
    }

    [Fact]
    public void InconsistentConfigurationsAreRejected()
    {
        Assert.Contains("--grad-every", Assert.Throws<ArgumentException>(() => (Small with { GradientEvery = 150 }).Validate()).Message);
        Assert.Contains("unknown model", Assert.Throws<ArgumentException>(() => (Small with { Model = "sbn-deep" }).Validate()).Message);
        Assert.ThrowsAny<ArgumentException>(() => (Small with { Estimator = "ovis-gamma2" }).Validate());
        Assert.Contains("--iw", Assert.Throws<ArgumentException>(() => (Small with { Particles = 0 }).Validate()).Message);
    }
}
