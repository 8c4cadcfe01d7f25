using Ovis.Catalog;
using Ovis.Estimators;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Training;

[Collection("Torch")]
public class CheckpointTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("ovis-checkpoint-").FullName;
    private readonly int threads = get_num_threads();

    public CheckpointTests() => set_num_threads(1);

    public void Dispose()
    {
        set_num_threads(threads);
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>A model, its optimiser, the run generator and the task, as the trainer holds them.</summary>
    private sealed class Run : IDisposable
    {
        public readonly Generator Generator;
        public readonly TrainingTask Task;
        public readonly OptimizerSet Optimizers = new();
        private readonly GradientEstimator estimator = EstimatorRegistry.Create("ovis-gamma1");

        public Run(string model, ulong seed)
        {
            Generator = new Generator(seed);
            Task = ModelCatalog.Get(model).CreateTask(new TrainingConfiguration { Model = model, Seed = seed }, CPU);
            Optimizers.Add("model", Task.Model.AllParameters(), 1e-2);
        }

        public void Step()
        {
            using var scope = NewDisposeScope();
            var x = Task.Data.NextBatch(30, Generator);
            var result = estimator.Compute(new EstimatorContext(new EstimatorSettings(5), Task.Model, x, Generator));
            Optimizers.ZeroGradients();
            result.Loss.backward();
            Optimizers.Step();
        }

        public CheckpointContents Contents => new(Task.Model, Optimizers.Optimizers, Generator, Task.Data, Array.Empty<TorchSharp.Modules.Parameter>());

        public double[] Parameters()
            => Task.Model.AllParameters().SelectMany(p => p.detach().reshape(-1).to(float64).data<double>().ToArray()).ToArray();

        public void Dispose()
        {
            Optimizers.Dispose();
            Task.Dispose();
            Generator.Dispose();
        }
    }

    [Theory]
    [InlineData("gmm")]
    [InlineData("gaussian-toy")]
    public void RoundTripRestoresParametersOptimiserGeneratorAndDataStream(string model)
    {
        var path = Path.Combine(directory, Checkpoint.FileName);
        using var original = new Run(model, 1);
        for (int i = 0; i < 15; i++) original.Step();
        var state = new CheckpointState { Step = 15, TrainingSums = new() { ["train:loss/L_k"] = -1.25 }, TrainingCount = 3,
                                          Offsets = new MetricsOffsets(10, 20, new() { ["events"] = 30 }) };
        Checkpoint.Write(path, state, original.Contents);
        Assert.False(File.Exists(path + ".tmp"));

        using var restored = new Run(model, 99);
        Assert.NotEqual(original.Parameters(), restored.Parameters());
        var read = Checkpoint.Read(path, restored.Contents);
        Assert.Equal(15, read.Step);
        Assert.Equal(3, read.TrainingCount);
        Assert.Equal(-1.25, read.TrainingSums["train:loss/L_k"]);
        Assert.Equal(state.Offsets.Jsonl, read.Offsets.Jsonl);
        Assert.Equal(30, read.Offsets.TensorBoard["events"]);
        Assert.Equal(original.Parameters(), restored.Parameters());

        // the same further steps (same batches, particles and Adam moments) give bit-identical parameters
        for (int i = 0; i < 5; i++) { original.Step(); restored.Step(); }
        Assert.Equal(original.Parameters(), restored.Parameters());
        using var a = rand(4, generator: original.Generator);
        using var b = rand(4, generator: restored.Generator);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
    }

    [Fact]
    public void AFormatOneCheckpointIsRefusedClearlyAndLeftUnchanged()
    {
        var path = Path.Combine(directory, Checkpoint.FileName);
        using (var writer = new BinaryWriter(File.Create(path))) { writer.Write("OVIS-CHECKPOINT-1"); writer.Write("{}"); writer.Write(new byte[64]); }
        var bytes = File.ReadAllBytes(path);
        using var run = new Run("gmm", 1);
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(path, run.Contents));
        Assert.Contains(path, error.Message);
        Assert.Contains("older Ovis (checkpoint format 1", error.Message);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.0)]
    [InlineData(0.999)]
    public void ADamagedCheckpointIsNamedAsDamagedWithThePreviousOneAsTheWayOut(double keptFraction)
    {
        var path = Path.Combine(directory, Checkpoint.FileName);
        using var run = new Run("gmm", 1);
        Checkpoint.Write(path, new CheckpointState { Step = 1 }, run.Contents);
        Assert.False(File.Exists(Path.Combine(directory, Checkpoint.PreviousFileName)));     // nothing to keep yet
        run.Step();
        Checkpoint.Write(path, new CheckpointState { Step = 2 }, run.Contents);
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(directory, Checkpoint.PreviousFileName)).Step);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keptFraction)]);
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(path, run.Contents));
        Assert.Contains($"checkpoint {path} is damaged", error.Message);
        Assert.Contains($"the previous checkpoint {Path.Combine(directory, Checkpoint.PreviousFileName)} is kept", error.Message);
        // the previous checkpoint still reads, and holds the state of step 1
        File.Copy(Path.Combine(directory, Checkpoint.PreviousFileName), path, overwrite: true);
        Assert.Equal(1, Checkpoint.Read(path, run.Contents).Step);
    }

    [Fact]
    public void ACheckpointOfOtherSettingsIsRefusedNamingWhatDiffers()
    {
        var settings = new TrainingConfiguration { Model = "gmm", Particles = 5, Steps = 100 };
        var state = new CheckpointState { SettingsHash = settings.ContentHash(), Settings = settings.DefiningJson(), Model = "gmm", Estimator = "ovis-gamma1" };
        Checkpoint.CheckBelongsTo(state, "c.bin", settings with { DataDirectory = "/elsewhere", Device = "cpu" }, "gmm", "ovis-gamma1");   // locations may move
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.CheckBelongsTo(state, "c.bin", settings with { Particles = 7, Steps = 50 }, "gmm", "ovis-gamma1"));
        Assert.Contains("particles 5 → 7", error.Message);
        Assert.Contains("steps 100 → 50", error.Message);
        error = Assert.Throws<InvalidDataException>(() => Checkpoint.CheckBelongsTo(state, "c.bin", settings with { Estimator = "vimco-arithmetic" }, "gmm", "vimco-arithmetic"));
        Assert.Contains("estimator 'ovis-gamma1' → 'vimco-arithmetic'", error.Message);
    }
}
