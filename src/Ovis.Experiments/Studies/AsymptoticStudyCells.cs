using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

using Ovis.Analysis;

namespace Ovis.Studies;

/// <summary>
/// The finished (estimator, K) cells of an <see cref="AsymptoticStudy"/> kept on disk, one JSON file per cell, so that
/// a study killed part-way (the paper preset runs for hours on a CPU) resumes with the cells it has and loses at most
/// the cell in progress. Each file is written atomically (temporary file, then rename) and records the settings that
/// determine the cell's draws; a cell saved under other settings is never reused.
/// </summary>
public sealed class AsymptoticStudyCells
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>
    /// Keep cells in <paramref name="directory"/> for a study with <paramref name="settings"/>; with
    /// <paramref name="reuse"/> false, cells are saved but earlier ones are not loaded (a fresh study).
    /// </summary>
    public AsymptoticStudyCells(string directory, AsymptoticStudySettings settings, bool reuse = true)
    {
        Directory = directory;
        Fingerprint = FingerprintOf(settings);
        Reuse = reuse;
    }

    /// <summary>Whether saved cells are loaded.</summary>
    public bool Reuse { get; }

    /// <summary>The folder holding the cell files.</summary>
    public string Directory { get; }

    /// <summary>The settings every draw of a cell depends on, besides its estimator and K.</summary>
    public string Fingerprint { get; }

    /// <summary>The settings of a study that fix the draws of each cell (all but the lists of estimators and K).</summary>
    public static string FingerprintOf(AsymptoticStudySettings s) => string.Join(";",
        $"draws={s.Draws}", $"points={s.Points}", $"D={s.Dimension}", $"perturbation={s.Perturbation.ToString("R", CultureInfo.InvariantCulture)}",
        $"spread={s.Spread}", $"key={s.Key}", $"seed={s.Seed}", $"dataSeed={s.DataSeed}",
        $"gradEpsilon={s.GradientEpsilon.ToString("R", CultureInfo.InvariantCulture)}", $"dtype={s.DType}", $"chunk={s.ChunkElements}");

    private string PathOf(string estimator, int particles) => Path.Combine(Directory, $"{estimator}_K{particles}.json");

    /// <summary>
    /// The saved row of (estimator, K), or null when reuse is off, there is none, or it was saved under other settings.
    /// </summary>
    public AsymptoticStudyRow? TryLoad(string estimator, int particles)
    {
        if (!Reuse) return null;
        var path = PathOf(estimator, particles);
        if (!File.Exists(path)) return null;
        CellFile? cell;
        try
        {
            cell = JsonSerializer.Deserialize<CellFile>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a readable study cell ({e.Message}); delete it to recompute the cell", e);
        }
        if (cell is null || cell.Fingerprint != Fingerprint || cell.Estimator != estimator || cell.Particles != particles) return null;
        if (cell.Mean.Length != cell.Variance.Length)
            throw new InvalidDataException($"{path}: mean and variance have different lengths; delete it to recompute the cell");
        var statistics = GradientStatistics.Restore(cell.Draws, cell.Epsilon, cell.Mean, cell.Variance, cell.DirectionalSnr);
        return new AsymptoticStudyRow(estimator, particles, statistics, cell.Seconds, Restored: true);
    }

    /// <summary>Save a finished row atomically.</summary>
    public void Save(AsymptoticStudyRow row)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var s = row.Statistics;
        var cell = new CellFile(Fingerprint, row.Estimator, row.Particles, s.Draws, s.Epsilon, s.Mean, s.Variance, s.DirectionalSnr, row.Seconds);
        var path = PathOf(row.Estimator, row.Particles);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(cell, Json));
        File.Move(temporary, path, overwrite: true);
    }

    private sealed record CellFile(string Fingerprint, string Estimator, int Particles, long Draws, double Epsilon,
                                   double[] Mean, double[] Variance, double DirectionalSnr, double Seconds);
}
