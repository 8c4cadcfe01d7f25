using Ovis.Catalog;
using Ovis.Reporting;
using System.Text.Json.Nodes;
using Ovis.Data;
using Ovis.Experiments;
using Ovis.Tests.Cli;
using Ovis.Tests.Data;
using Ovis.Training;

namespace Ovis.Tests.Training;

/// <summary>
/// The deep models (sbn, vae) through the real trainer on a tiny IDX fixture written to a temporary folder
/// (64 training and 32 test images of 28×28 grey levels), so the tests do not depend on MNIST's size.
/// </summary>
[Collection("Torch")]
public class ImageTrainingTests : IDisposable
{
    private const string FixtureName = "fixture-digits";
    private readonly TempDirectory data = new();
    private readonly string runs = Directory.CreateTempSubdirectory("ovis-image-trainer-").FullName;
    private readonly int threads = TorchSharp.torch.get_num_threads();

    public ImageTrainingTests()
    {
        TorchSharp.torch.set_num_threads(1);
        byte[] trainImages = DataFixtures.Images(64, 28, 28, seed: 1), trainLabels = DataFixtures.Labels(64);
        byte[] testImages = DataFixtures.Images(32, 28, 28, seed: 2), testLabels = DataFixtures.Labels(32);
        data.Write("train-images-idx3-ubyte", trainImages);
        data.Write("train-labels-idx1-ubyte", trainLabels);
        data.Write("t10k-images-idx3-ubyte.gz", DataFixtures.Gzip(testImages));
        data.Write("t10k-labels-idx1-ubyte", testLabels);
        ImageDatasets.Register(DataFixtures.Spec(FixtureName, trainImages, trainLabels, testImages, testLabels,
                                                       ValidationSplit.Test, 0, 64, 32));
    }

    public void Dispose()
    {
        TorchSharp.torch.set_num_threads(threads);
        data.Dispose();
        Directory.Delete(runs, recursive: true);
    }

    private TrainingConfiguration Tiny(string model, string estimator) => new()
    {
        Model = model, Estimator = estimator, Dataset = FixtureName, DataDirectory = data.Path, Layers = model == "sbn" ? new[] { 8, 8 } : new[] { 4, 8 },
        Particles = 5, Steps = 30, BatchSize = 24, LearningRate = 3e-3, EvaluateEvery = 10, EvaluationParticles = 40, EvaluationChunk = 15,
        EvaluationBatchSize = 12, TrainEvaluationPoints = 12, FinalEvaluationParticles = 60, FinalEvaluationPoints = 20,
        CheckpointEvery = 10, GradientEvery = 10, GradientSamples = 3, GradientBatchSize = 8, Seed = 4,
    };

    [Theory]
    [InlineData("sbn", "ovis-gamma1")]
    [InlineData("vae", "pathwise-iwae")]
    public void DeepModelTrainsWithLikelihoodEvaluations(string model, string estimator)
    {
        var directory = Path.Combine(runs, model);
        var configuration = Tiny(model, estimator);
        using (var run = CatalogRun.Create(configuration, directory))
        {
            Assert.Equal(64, ((ImageTrainingData)run.Task.Data).Dataset.Train.Count);
            Assert.Equal("completed", run.Trainer.Run(resume: false).Status);
            RunFigures.Write(run, directory);
        }
        var records = TrainingSummary.ReadRecords(Path.Combine(directory, MetricsLog.JsonlFile));
        Assert.Equal(new long[] { 0, 10, 20, 30 }, records.Select(r => r.step).ToArray());
        foreach (var (step, metrics) in records)
            foreach (var split in new[] { "test:", "train:" })
            {
                double bound = metrics[split + "loss/L_k"], elbo = metrics[split + "loss/elbo"], ess = metrics[split + "loss/ess"];
                Assert.True(bound < 0 && elbo <= bound, $"step {step} {split}: L_K {bound}, ELBO {elbo}");   // Jensen: ELBO ≤ L_K ≤ log p(x) < 0
                Assert.Equal(bound - elbo, metrics[split + "loss/kl_q_p"], 9);
                Assert.InRange(ess, 1, configuration.EvaluationParticles);
            }
        foreach (var (_, metrics) in records.Skip(1))
        {
            Assert.InRange(metrics["batch:loss/ess"], 1, configuration.Particles);    // the ESS at the training K
            Assert.True(metrics.ContainsKey("grads/snr"));
        }

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, Trainer.SummaryFile)))!.AsObject();
        Assert.Equal("completed", summary["status"]!.GetValue<string>());
        var final = summary["final_evaluation"]!.AsObject();
        Assert.Equal(60, final["particles"]!.GetValue<double>());
        Assert.Equal(20, final["points"]!.GetValue<double>());
        Assert.True(final["test:loss/L_k"]!.GetValue<double>() < 0);
        Assert.True(final["test:loss/L_k_stderr"]!.GetValue<double>() > 0);

        // The figures: 64 prior samples in 8 rows, and 16 test images with their reconstructions in 4 rows, of 28×28
        // images enlarged twice with 2-pixel gaps.
        foreach (var (file, rows) in new[] { (ImageFigures.PriorSamplesFile, 8), (ImageFigures.ReconstructionsFile, 4) })
        {
            using var image = SkiaSharp.SKBitmap.Decode(Path.Combine(directory, file));
            Assert.NotNull(image);
            Assert.Equal((8 * 58 + 2, rows * 58 + 2), (image.Width, image.Height));
        }
    }

    [Fact]
    public void FinishedRunIsEvaluatedAtSeveralKWithPairedRises()
    {
        var directory = Path.Combine(runs, "evaluated");
        CatalogRuns.Train(Tiny("sbn", "ovis-gamma1") with { Steps = 20, GradientEvery = 0, FinalEvaluationParticles = 0 }, directory);
        var (step, rows) = RunEvaluation.Evaluate(directory, new[] { 1, 10, 100 }, points: 20, particleChunk: 30, dataDirectory: data.Path);
        Assert.Equal(20, step);
        Assert.Equal(new[] { 1, 10, 100 }, rows.Select(r => r.Estimate.Particles));
        Assert.All(rows, r => Assert.Equal(20, r.Estimate.Count));
        Assert.True(double.IsNaN(rows[0].RiseOverPrevious));
        // L_K rises with K: the paired rise from K = 1 to 10 and from 10 to 100 is positive beyond 2 standard errors
        // (20 points of a 20-step model; the trained paper-size runs show 11–14 standard errors per decade of K).
        foreach (var row in rows.Skip(1))
            Assert.True(row.RiseOverPrevious > 2 * row.RiseStandardError, $"K = {row.Estimate.Particles}: rise {row.RiseOverPrevious} ± {row.RiseStandardError}");
        Assert.Equal(rows[2].Estimate.MeanBound - rows[1].Estimate.MeanBound, rows[2].RiseOverPrevious, 9);
        var missing = Assert.Throws<FileNotFoundException>(() => RunEvaluation.Evaluate(Path.Combine(runs, "nowhere"), new[] { 1 }, 5));
        Assert.Contains("config.json", missing.Message);
    }

    [Fact]
    public void KilledAndResumedSbnRunEqualsAnUninterruptedOne()
    {
        // dynamic binarisation and 64 images in batches of 24 (3 batches per epoch): the loader's permutation,
        // position and generator must all come back from the checkpoint
        var configuration = Tiny("sbn", "vimco-arithmetic") with { Steps = 40, GradientEvery = 0, FinalEvaluationParticles = 0 };
        var whole = Path.Combine(runs, "whole");
        var pieces = Path.Combine(runs, "pieces");
        CatalogRuns.Train(configuration, whole);
        Assert.Equal("stopped", CatalogRuns.Train(configuration, pieces, stopAfterSteps: 25).Status);   // checkpoint at 20, epoch 7 under way
        CatalogRuns.Train(configuration, pieces, resume: true);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, MetricsLog.JsonlFile)), File.ReadAllBytes(Path.Combine(pieces, MetricsLog.JsonlFile)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, MetricsLog.CsvFile)), File.ReadAllBytes(Path.Combine(pieces, MetricsLog.CsvFile)));
    }

    [Fact]
    public void TrainCommandAppliesThePaperDefaultsOfTheDeepModels()
    {
        var directory = Path.Combine(runs, "cli");
        var (code, stdout, stderr) = CliRunner.Run("train", "--model", "sbn", "--dataset", FixtureName, "--data-dir", data.Path, "--layers", "8",
            "--iw", "3", "--steps", "4", "--eval-every", "2", "--eval-points", "4", "--train-eval-points", "4", "--eval-chunk", "300",
            "--final-eval-iw", "50", "--final-eval-points", "6", "--grad-every", "0", "--out", directory);
        Assert.True(code == 0, stderr);
        Assert.Contains("final test L_50 on 6 points", stdout);
        var stored = TrainingConfiguration.FromJson(File.ReadAllText(Path.Combine(directory, Trainer.ConfigurationFile)));
        Assert.Equal((24, 3e-4, 1000, 4), (stored.BatchSize, stored.LearningRate, stored.EvaluationParticles, stored.EvaluationBatchSize));
        Assert.True(File.Exists(Path.Combine(directory, "training-curve.png")));
    }

    [Fact]
    public void DeepModelConfigurationsAreChecked()
    {
        var sbn = Tiny("sbn", "ovis-gamma1");
        Assert.Contains("reparameterised", Assert.Throws<NotSupportedException>(() => (sbn with { Estimator = "pathwise-iwae" }).Validate()).Message);
        Assert.Contains("unknown data set", Assert.Throws<ArgumentException>(() => (sbn with { Dataset = "cifar" }).Validate()).Message);
        Assert.Contains("--binarization", Assert.Throws<ArgumentException>(() => (sbn with { Binarization = "otsu" }).Validate()).Message);
        Assert.Contains("--eval-chunk", Assert.Throws<ArgumentException>(() => (sbn with { EvaluationChunk = 0 }).Validate()).Message);
        var missing = sbn with { DataDirectory = Path.Combine(data.Path, "nowhere"), Dataset = FixtureName };
        Assert.Throws<FileNotFoundException>(() => CatalogRun.Create(missing, Path.Combine(runs, "missing")));
    }

    [Fact]
    public void StaticBinarizationIsFixedAndThresholdGivesTheFashionRule()
    {
        var staticOnce = ImageDatasets.Load(Tiny("sbn", "ovis-gamma1") with { Binarization = "static" });
        var staticTwice = ImageDatasets.Load(Tiny("sbn", "ovis-gamma1") with { Binarization = "static" });
        Assert.True(staticOnce.Train.IsBinary);
        Assert.True(staticOnce.Train.Pixels.to(TorchSharp.torch.ScalarType.Float32).allclose(staticTwice.Train.Pixels.to(TorchSharp.torch.ScalarType.Float32)));
        var threshold = ImageDatasets.Load(Tiny("sbn", "ovis-gamma1") with { Binarization = "threshold" });
        var grey = ImageDatasets.Load(Tiny("sbn", "ovis-gamma1"));
        Assert.Equal(BinarizationMode.Dynamic, grey.Binarization);
        Assert.True(threshold.Train.Pixels.to(TorchSharp.torch.ScalarType.Float32)
                    .allclose(grey.Train.Pixels.ge(128).to(TorchSharp.torch.ScalarType.Float32)));
    }
}

/// <summary>Every file in experiments/ is a valid spec whose every run is a valid <c>ovis train</c> command line.</summary>
public class ExperimentFilesTests
{
    public static IEnumerable<object[]> Files()
        => Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "experiments"), "*.json").Order().Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryRunIsAValidTrainCommand(string file)
    {
        var spec = ExperimentSpec.Load(Path.Combine(RepositoryPaths.Root, "experiments", file));
        var runs = spec.Expand();
        Assert.NotEmpty(runs);
        foreach (var run in runs.DistinctBy(r => r.Describe(r.CommandLine().Where((_, i) => i % 2 == 0).Select(n => n[2..]).Where(n => n != "seed"))))
        {
            var (code, stdout, stderr) = CliRunner.Run(new[] { "train" }.Concat(run.CommandLine()).Append("--check").ToArray());
            Assert.True(code == 0, $"{file}: ovis train {string.Join(" ", run.CommandLine())} --check failed: {stderr}");
            Assert.Contains("\"estimator\"", stdout);
        }
    }

    [Fact]
    public void TheRequestedDeepModelFilesExist()
    {
        foreach (var name in new[] { "sbn", "vae", "budget", "sbn-cpu", "vae-cpu" })
            Assert.True(File.Exists(Path.Combine(RepositoryPaths.Root, "experiments", name + ".json")), $"experiments/{name}.json is missing");
    }
}
