using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// The scalar part of a checkpoint: the step reached, the metrics-file lengths, the running training averages since
/// the last evaluation and the wall time spent so far.
/// </summary>
public sealed record CheckpointState
{
    /// <summary>Global steps completed.</summary>
    public long Step { get; init; }
    /// <summary>Lengths of the metrics files when the checkpoint was written.</summary>
    public MetricsOffsets Offsets { get; init; } = new(0, 0, new());
    /// <summary>Sums of the training diagnostics since the last evaluation.</summary>
    public Dictionary<string, double> TrainingSums { get; init; } = new();
    /// <summary>Steps summed in <see cref="TrainingSums"/>.</summary>
    public long TrainingCount { get; init; }
    /// <summary>Training wall time so far, in seconds (not part of the metrics).</summary>
    public double ElapsedSeconds { get; init; }
}

/// <summary>
/// Atomic checkpoints (one file, <c>checkpoint.bin</c>): the scalar state as JSON, the model's parameters and
/// buffers, every optimiser's state (in a fixed order of names), the random generator's state, the data stream's
/// position and the parameters an estimator owns (a neural baseline). Written to a temporary file, flushed to disk and renamed over the previous checkpoint, so a run killed at
/// any moment leaves either the old or the new checkpoint, never a partial one.
/// </summary>
public static class Checkpoint
{
    /// <summary>The checkpoint's file name inside the run directory.</summary>
    public const string FileName = "checkpoint.bin";

    private const string Magic = "OVIS-CHECKPOINT-1";

    /// <summary>Write a checkpoint atomically to <paramref name="path"/>.</summary>
    public static void Write(string path, CheckpointState state, nn.Module model, IReadOnlyList<(string name, TorchSharp.Modules.OptimizerHelper optimizer)> optimizers,
                             Generator generator, TrainingTask task, IReadOnlyList<TorchSharp.Modules.Parameter>? estimatorParameters = null)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(JsonSerializer.Serialize(state));
                model.save(writer);
                writer.Write(optimizers.Count);
                foreach (var (name, optimizer) in optimizers)
                {
                    writer.Write(name);
                    optimizer.save_state_dict(writer);
                }
                using (var generatorState = generator.get_state())
                {
                    var bytes = generatorState.data<byte>().ToArray();
                    writer.Write(bytes.Length);
                    writer.Write(bytes);
                }
                task.SaveState(writer);
                var own = estimatorParameters ?? Array.Empty<TorchSharp.Modules.Parameter>();
                writer.Write(own.Count);
                foreach (var parameter in own) parameter.Save(writer);
                writer.Write(Magic);
            }
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Read a checkpoint into the given model, optimisers, generator and task, and return its scalar state.</summary>
    public static CheckpointState Read(string path, nn.Module model, IReadOnlyList<(string name, TorchSharp.Modules.OptimizerHelper optimizer)> optimizers,
                                       Generator generator, TrainingTask task, IReadOnlyList<TorchSharp.Modules.Parameter>? estimatorParameters = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        if (reader.ReadString() != Magic) throw new InvalidDataException($"{path} is not an Ovis checkpoint");
        var state = JsonSerializer.Deserialize<CheckpointState>(reader.ReadString())
                    ?? throw new InvalidDataException($"{path} holds no checkpoint state");
        model.load(reader);
        int count = reader.ReadInt32();
        if (count != optimizers.Count) throw new InvalidDataException($"{path} holds {count} optimisers, the run has {optimizers.Count}");
        foreach (var (name, optimizer) in optimizers)
        {
            var stored = reader.ReadString();
            if (stored != name) throw new InvalidDataException($"{path}: expected the state of optimiser '{name}', found '{stored}'");
            try
            {
                optimizer.load_state_dict(reader);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or System.Runtime.InteropServices.ExternalException)
            {
                throw new InvalidDataException(
                    $"{path}: the state of optimiser '{name}' does not fit this run ({e.Message}). Checkpoints written before Ovis " +
                    "packed each optimiser group into one buffer (ContiguousParameters, 2026-11-24) hold one Adam state per parameter " +
                    "tensor: finish such a run with the version that started it, or start it anew; the checkpoint was not changed.", e);
            }
        }
        var bytes = reader.ReadBytes(reader.ReadInt32());
        using (var generatorState = tensor(bytes))
            generator.set_state(generatorState);
        task.LoadState(reader);
        var own = estimatorParameters ?? Array.Empty<TorchSharp.Modules.Parameter>();
        if (reader.ReadInt32() != own.Count) throw new InvalidDataException($"{path} holds a different number of estimator parameters than the run");
        using (no_grad())
            foreach (var parameter in own) parameter.Load(reader);
        if (reader.ReadString() != Magic) throw new InvalidDataException($"{path} is truncated or corrupt");
        return state;
    }
}
