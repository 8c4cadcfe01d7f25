using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ovis.Estimators;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// The scalar part of a checkpoint: what it belongs to (the format, the run's defining settings and their hash, the
/// model and estimator), the step reached, the metrics-file lengths, the running training averages since the last
/// evaluation and the wall time spent so far.
/// </summary>
internal sealed record CheckpointState
{
    /// <summary>The checkpoint format this Ovis writes.</summary>
    public const int CurrentFormat = 2;

    /// <summary>The format of the file.</summary>
    public int Format { get; init; } = CurrentFormat;
    /// <summary><see cref="TrainerSettings.ContentHash"/> of the run's settings.</summary>
    public string SettingsHash { get; init; } = "";
    /// <summary><see cref="TrainerSettings.DefiningJson"/> of the run's settings (to name what differs on a mismatch).</summary>
    public string Settings { get; init; } = "{}";
    /// <summary>The model's name.</summary>
    public string Model { get; init; } = "";
    /// <summary>The estimator's id.</summary>
    public string Estimator { get; init; } = "";
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

/// <summary>What a checkpoint holds besides its scalar state: the objects whose state it writes and restores.</summary>
/// <param name="Model">the model's parameters and buffers.</param>
/// <param name="Optimizers">every optimiser, by name, in a fixed order.</param>
/// <param name="Generator">the run's random generator.</param>
/// <param name="Data">the data stream's position.</param>
/// <param name="EstimatorParameters">parameters the estimator owns (empty for most).</param>
internal sealed record CheckpointContents(nn.Module Model, IReadOnlyList<(string name, TorchSharp.Modules.OptimizerHelper optimizer)> Optimizers,
                                          Generator Generator, ITrainingData Data, IReadOnlyList<TorchSharp.Modules.Parameter> EstimatorParameters);

/// <summary>
/// Atomic checkpoints (<c>checkpoint.bin</c>): the scalar state as JSON, then the model's parameters and buffers,
/// every optimiser's state, the random generator's state, the data stream's position and the parameters an
/// estimator owns, framed by a magic string at both ends. A new checkpoint is written to a temporary file and flushed
/// to disk; the current one is copied to <c>checkpoint.prev.bin</c>; then the new file is renamed over it. A run
/// killed at any moment therefore leaves a complete <c>checkpoint.bin</c>, and the one before it is kept as a way out
/// when a disk fault damages the latest.
/// </summary>
internal static class Checkpoint
{
    /// <summary>The checkpoint's file name inside the run directory.</summary>
    public const string FileName = "checkpoint.bin";

    /// <summary>The previous checkpoint's file name.</summary>
    public const string PreviousFileName = "checkpoint.prev.bin";

    private const string Magic = "OVIS-CHECKPOINT-2", FormatOneMagic = "OVIS-CHECKPOINT-1";

    /// <summary>Write a checkpoint atomically to <paramref name="path"/>, keeping the current one as the previous.</summary>
    public static void Write(string path, CheckpointState state, CheckpointContents contents)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(JsonSerializer.Serialize(state));
                contents.Model.save(writer);
                writer.Write(contents.Optimizers.Count);
                foreach (var (name, optimizer) in contents.Optimizers)
                {
                    writer.Write(name);
                    optimizer.save_state_dict(writer);
                }
                using (var generatorState = contents.Generator.get_state())
                {
                    var bytes = generatorState.data<byte>().ToArray();
                    writer.Write(bytes.Length);
                    writer.Write(bytes);
                }
                contents.Data.SaveState(writer);
                writer.Write(contents.EstimatorParameters.Count);
                foreach (var parameter in contents.EstimatorParameters) parameter.Save(writer);
                writer.Write(Magic);
            }
            stream.Flush(flushToDisk: true);
        }
        var previous = Path.Combine(Path.GetDirectoryName(path) ?? ".", PreviousFileName);
        if (File.Exists(path))
        {
            File.Copy(path, previous + ".tmp", overwrite: true);
            File.Move(previous + ".tmp", previous, overwrite: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Read only the scalar state of the checkpoint at <paramref name="path"/> (to check what it belongs to before
    /// anything is loaded); a damaged file is named as such.
    /// </summary>
    public static CheckpointState ReadState(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            return ReadHeader(reader, path);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or JsonException or DecoderFallbackException && e is not FileNotFoundException)
        {
            throw Damaged(path, e);
        }
    }

    /// <summary>Read a checkpoint into <paramref name="contents"/> and return its scalar state.</summary>
    public static CheckpointState Read(string path, CheckpointContents contents)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            var state = ReadHeader(reader, path);
            try { contents.Model.load(reader); }
            catch (ArgumentException e) { throw new InvalidDataException($"{path} holds a model of another shape than this run's ({e.Message})", e); }
            int count = reader.ReadInt32();
            if (count != contents.Optimizers.Count) throw new InvalidDataException($"{path} holds {count} optimisers, the run has {contents.Optimizers.Count}");
            foreach (var (name, optimizer) in contents.Optimizers)
            {
                var stored = reader.ReadString();
                if (stored != name) throw new InvalidDataException($"{path}: expected the state of optimiser '{name}', found '{stored}'");
                try { optimizer.load_state_dict(reader); }
                catch (ArgumentException e) { throw new InvalidDataException($"{path}: the state of optimiser '{name}' does not fit this run ({e.Message})", e); }
            }
            var bytes = reader.ReadBytes(reader.ReadInt32());
            using (var generatorState = tensor(bytes))
                contents.Generator.set_state(generatorState);
            contents.Data.LoadState(reader);
            if (reader.ReadInt32() != contents.EstimatorParameters.Count)
                throw new InvalidDataException($"{path} holds a different number of estimator parameters than the run");
            using (no_grad())
                foreach (var parameter in contents.EstimatorParameters) parameter.Load(reader);
            if (reader.ReadString() != Magic) throw new EndOfStreamException("the closing mark is missing");
            return state;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or DecoderFallbackException or JsonException
                                      or System.Runtime.InteropServices.ExternalException && e is not FileNotFoundException)
        {
            throw Damaged(path, e);
        }
    }

    private static CheckpointState ReadHeader(BinaryReader reader, string path)
    {
        if (reader.BaseStream.Length == 0) throw new EndOfStreamException("the file is empty");
        var magic = reader.ReadString();
        if (magic == FormatOneMagic)
            throw new InvalidDataException($"{path} was written by an older Ovis (checkpoint format 1, which does not record the run's settings): " +
                                           "finish that run with the version that started it, or start it anew; the checkpoint was not changed");
        if (magic != Magic) throw new InvalidDataException($"{path} is not an Ovis checkpoint");
        return JsonSerializer.Deserialize<CheckpointState>(reader.ReadString()) ?? throw new EndOfStreamException("the state is empty");
    }

    private static InvalidDataException Damaged(string path, Exception cause)
    {
        var previous = Path.Combine(Path.GetDirectoryName(path) ?? ".", PreviousFileName);
        var wayOut = File.Exists(previous) && Path.GetFileName(path) != PreviousFileName
            ? $"; the previous checkpoint {previous} is kept: move it over {path} to resume from it"
            : "; no earlier checkpoint is kept, so the run must start anew";
        return new InvalidDataException($"checkpoint {path} is damaged ({cause.Message}){wayOut}", cause);
    }

    /// <summary>
    /// Refuse to resume a run whose settings, model or estimator differ from those its checkpoint was written with,
    /// naming the differing settings.
    /// </summary>
    public static void CheckBelongsTo(CheckpointState state, string path, TrainerSettings settings, string model, string estimator)
    {
        var differences = new List<string>();
        if (state.Model != model) differences.Add($"model '{state.Model}' → '{model}'");
        if (state.Estimator != estimator) differences.Add($"estimator '{state.Estimator}' → '{estimator}'");
        if (state.SettingsHash != settings.ContentHash())
        {
            var stored = JsonNode.Parse(state.Settings)!.AsObject();
            var current = JsonNode.Parse(settings.DefiningJson())!.AsObject();
            foreach (var name in stored.Select(p => p.Key).Union(current.Select(p => p.Key)).Distinct())
            {
                var before = stored[name]?.ToJsonString() ?? "absent";
                var after = current[name]?.ToJsonString() ?? "absent";
                if (before != after && !differences.Any(d => d.StartsWith(name + " ", StringComparison.Ordinal)))
                    differences.Add($"{name} {before} → {after}");
            }
            if (differences.Count == 0) differences.Add("the settings' hash");
        }
        if (differences.Count > 0)
            throw new InvalidDataException($"{path} belongs to a different run than this configuration ({string.Join("; ", differences)}): " +
                                           "restore the run's config.json, or start the new settings in another --out");
    }
}
