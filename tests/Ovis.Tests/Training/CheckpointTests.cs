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
            Task = TrainingTasks.Create(model, Generator, CPU);
            Optimizers.Add("model", Task.Model.AllParameters(), 1e-2);
        }

        public void Step()
        {
            using var scope = NewDisposeScope();
            var x = Task.NextBatch(30, Generator);
            var result = estimator.Compute(new EstimatorContext(new EstimatorSettings(5), Task.Model, x, Generator));
            Optimizers.ZeroGradients();
            result.Loss.backward();
            Optimizers.Step();
        }

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
        Checkpoint.Write(path, state, original.Task.Model, original.Optimizers.Optimizers, original.Generator, original.Task);
        Assert.False(File.Exists(path + ".tmp"));

        using var restored = new Run(model, 99);
        Assert.NotEqual(original.Parameters(), restored.Parameters());
        var read = Checkpoint.Read(path, restored.Task.Model, restored.Optimizers.Optimizers, restored.Generator, restored.Task);
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
    public void ACheckpointWithOneAdamStatePerTensorIsRefusedClearlyAndLeftUnchanged()
    {
        // Written the way Ovis did before packing each optimiser group (one Adam state per parameter tensor).
        var path = Path.Combine(directory, Checkpoint.FileName);
        using var run = new Run("gmm", 1);
        using var separate = optim.Adam(run.Task.Model.AllParameters(), lr: 1e-2);
        Checkpoint.Write(path, new CheckpointState { Step = 3 }, run.Task.Model, new[] { ("model", (TorchSharp.Modules.OptimizerHelper)separate) }, run.Generator, run.Task);
        var bytes = File.ReadAllBytes(path);
        using var current = new Run("gmm", 1);
        var error = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(path, current.Task.Model, current.Optimizers.Optimizers, current.Generator, current.Task));
        Assert.Contains(path, error.Message);
        Assert.Contains("optimiser 'model' does not fit this run", error.Message);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public void ATruncatedCheckpointIsRejected()
    {
        var path = Path.Combine(directory, Checkpoint.FileName);
        using var run = new Run("gmm", 1);
        Checkpoint.Write(path, new CheckpointState(), run.Task.Model, run.Optimizers.Optimizers, run.Generator, run.Task);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 8)]);
        Assert.ThrowsAny<Exception>(() => Checkpoint.Read(path, run.Task.Model, run.Optimizers.Optimizers, run.Generator, run.Task));
    }
}
