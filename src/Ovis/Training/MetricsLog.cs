using System.Globalization;
using System.Text;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;

namespace Ovis.Training;

/// <summary>Byte lengths of the metrics files at a checkpoint, so that a resumed run can cut off what was written after it.</summary>
/// <param name="Jsonl">length of metrics.jsonl.</param>
/// <param name="Csv">length of metrics.csv.</param>
/// <param name="TensorBoard">length of every TensorBoard event file, by file name.</param>
internal sealed record MetricsOffsets(long Jsonl, long Csv, Dictionary<string, long> TensorBoard);

/// <summary>
/// Writes one record per evaluation to <c>metrics.jsonl</c> (<c>{"step": n, "metrics": {...}}</c>, the contract read
/// by the experiment runner), to <c>metrics.csv</c> (fixed columns) and to TensorBoard event files under
/// <c>tensorboard/</c> (TorchSharp's SummaryWriter). On resume, every file is cut back to its length at the checkpoint.
/// </summary>
internal sealed class MetricsLog : IDisposable
{
    /// <summary>File names inside the run directory.</summary>
    public const string JsonlFile = "metrics.jsonl", CsvFile = "metrics.csv", TensorBoardFolder = "tensorboard";

    private readonly FileStream jsonl, csv;
    private readonly IReadOnlyList<string> columns;
    private readonly string tensorBoardDirectory;
    private readonly SummaryWriter? tensorBoard;

    /// <summary>Open the log in <paramref name="directory"/>: fresh (existing files removed) or cut back to <paramref name="resumeFrom"/>.</summary>
    public MetricsLog(string directory, IReadOnlyList<string> csvColumns, MetricsOffsets? resumeFrom)
    {
        columns = csvColumns;
        tensorBoardDirectory = Path.Combine(directory, TensorBoardFolder);
        jsonl = Open(Path.Combine(directory, JsonlFile), resumeFrom?.Jsonl ?? 0);
        csv = Open(Path.Combine(directory, CsvFile), resumeFrom?.Csv ?? 0);
        if (csv.Length == 0) WriteLine(csv, "step," + string.Join(",", columns.Select(Quote)));
        if (Directory.Exists(tensorBoardDirectory))
            foreach (var file in Directory.GetFiles(tensorBoardDirectory))
            {
                var name = Path.GetFileName(file);
                if (resumeFrom is not null && resumeFrom.TensorBoard.TryGetValue(name, out var length))
                    using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write)) stream.SetLength(length);
                else File.Delete(file);
            }
        try
        {
            tensorBoard = torch.utils.tensorboard.SummaryWriter(tensorBoardDirectory, createRunName: false);
        }
        catch (Exception e)
        {
            TensorBoardError = $"TensorBoard event files are not written: {e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>Why TensorBoard files are not written, or null when they are.</summary>
    public string? TensorBoardError { get; private set; }

    private static FileStream Open(string path, long length)
    {
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        if (stream.Length < length)
            throw new InvalidDataException($"{path} is shorter ({stream.Length} bytes) than at the checkpoint ({length} bytes); the run directory was modified");
        stream.SetLength(length);
        stream.Seek(0, SeekOrigin.End);
        return stream;
    }

    private static string Quote(string text) => text.Contains(',') || text.Contains('"') ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;

    private static void WriteLine(FileStream stream, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        stream.Write(bytes, 0, bytes.Length);
    }

    /// <summary>Format a metric value: round-trip precision, invariant culture.</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Append one evaluation record.</summary>
    public void Write(long step, IReadOnlyDictionary<string, double> metrics)
    {
        using (var buffer = new MemoryStream())
        {
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteNumber("step", step);
                json.WriteStartObject("metrics");
                foreach (var (key, value) in metrics)
                {
                    if (double.IsFinite(value)) json.WriteNumber(key, value);
                    else json.WriteNull(key);
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            buffer.WriteByte((byte)'\n');
            jsonl.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        WriteLine(csv, step.ToString(CultureInfo.InvariantCulture) + "," + string.Join(",",
            columns.Select(c => metrics.TryGetValue(c, out var v) && double.IsFinite(v) ? Format(v) : "")));
        jsonl.Flush();
        csv.Flush();
        if (tensorBoard is null) return;
        try
        {
            foreach (var (key, value) in metrics)
                if (double.IsFinite(value)) tensorBoard.add_scalar(key, (float)value, checked((int)step));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            TensorBoardError = $"TensorBoard event files stopped: {e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>Flush to disk and return the current file lengths (recorded in a checkpoint).</summary>
    public MetricsOffsets Offsets()
    {
        jsonl.Flush(flushToDisk: true);
        csv.Flush(flushToDisk: true);
        var events = Directory.Exists(tensorBoardDirectory)
            ? Directory.GetFiles(tensorBoardDirectory).ToDictionary(f => Path.GetFileName(f)!, f => new FileInfo(f).Length)
            : new Dictionary<string, long>();
        return new MetricsOffsets(jsonl.Length, csv.Length, events);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        jsonl.Dispose();
        csv.Dispose();
    }
}
