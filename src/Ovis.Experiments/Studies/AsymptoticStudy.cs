using System.Diagnostics;
using Ovis.Analysis;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Studies;

/// <summary>The settings of the asymptotic SNR study (docs/experiments.md §2.1, the paper's Figure 1).</summary>
/// <param name="Estimators">estimator ids (EstimatorRegistry).</param>
/// <param name="Particles">the K values.</param>
/// <param name="Draws">gradient draws per (estimator, K) (10⁴ in the paper).</param>
/// <param name="Points">data points, all in one batch (1024 in the paper).</param>
/// <param name="Dimension">D of the Gaussian toy (20).</param>
/// <param name="Perturbation">ε, the std of the N(0, ε²) noise added to the optimum (0.01).</param>
/// <param name="Spread">q's spread: std 2/3 (reference code) or variance 2/3 (Rainforth et al.).</param>
/// <param name="Key">parameter selection (e.g. "b", the paper's choice).</param>
/// <param name="Seed">seed of the model initialisation, the perturbation and the draws (10 in the reference).</param>
/// <param name="DataSeed">seed of the data set (42 in the reference).</param>
/// <param name="GradientEpsilon">ε of the statistics (variance threshold, SNR floor), 1e-15 by default.</param>
/// <param name="DType">float64 (default: the OVIS~ residuals at large K are O(K⁻²) differences of O(|L|) numbers,
/// below float32 resolution) or float32 (the reference's precision).</param>
/// <param name="ChunkElements">memory budget of one vectorised chunk in latent elements.</param>
/// <param name="Shard">which cells this process computes: (index, count) deals the cells, largest K first, to count
/// shards back and forth and takes share index (count 1: all). Shards run as separate processes sharing one
/// <see cref="AsymptoticStudyCells"/> folder — not as threads, because TorchSharp's temporary scalars can be finalised
/// by a collection on another thread while a native call still uses them. Every cell's draws depend only on its seed,
/// so the results do not depend on the sharding.</param>
public sealed record AsymptoticStudySettings(
    IReadOnlyList<string> Estimators, IReadOnlyList<int> Particles, int Draws, int Points = 1024, int Dimension = 20,
    double Perturbation = 0.01, GaussianToySpread Spread = GaussianToySpread.StandardDeviationTwoThirds, string Key = "b",
    ulong Seed = 10, long DataSeed = 42, double GradientEpsilon = 1e-15, ScalarType DType = ScalarType.Float64,
    long ChunkElements = RowwiseGradientDraws.DefaultChunkElements, (int Index, int Count) Shard = default)
{
    /// <summary>The paper's Figure 1 (docs/experiments.md §2.1, §3.1).</summary>
    public static AsymptoticStudySettings Paper(IReadOnlyList<string> estimators) =>
        new(estimators, new[] { 3, 10, 30, 100, 300, 1000 }, Draws: 10_000);

    /// <summary>A small version that finishes in well under a minute on 2 cores.</summary>
    public static AsymptoticStudySettings Quick(IReadOnlyList<string> estimators) =>
        new(estimators, new[] { 3, 10, 30, 100 }, Draws: 300, Points: 64);

    /// <summary>Throw a clear error for impossible settings.</summary>
    public void Validate()
    {
        if (Estimators.Count == 0) throw new ArgumentException("name at least one estimator");
        if (Particles.Count == 0 || Particles.Any(k => k < 1)) throw new ArgumentException("every K must be a positive whole number");
        if (Draws < 2) throw new ArgumentException($"the study needs at least 2 draws per (estimator, K), got {Draws}");
        if (Points < 1) throw new ArgumentException($"the study needs at least one data point, got {Points}");
        if (Dimension < 1) throw new ArgumentException($"the dimension must be positive, got {Dimension}");
        if (!(Perturbation >= 0)) throw new ArgumentException($"the perturbation ε must be non-negative, got {Perturbation}");
        if (DType is not (ScalarType.Float32 or ScalarType.Float64)) throw new ArgumentException("the study runs in float32 or float64");
        if (Shard != default && (Shard.Count < 1 || Shard.Index < 0 || Shard.Index >= Shard.Count))
            throw new ArgumentException($"shard {Shard.Index}/{Shard.Count} is not an index below a positive count");
    }
}

/// <summary>One (estimator, K) cell of the study.</summary>
/// <param name="Estimator">canonical estimator id.</param>
/// <param name="Particles">K.</param>
/// <param name="Statistics">the gradient statistics over the draws.</param>
/// <param name="Seconds">wall time of the cell (when it was computed).</param>
/// <param name="Restored">true when the cell was loaded from <see cref="AsymptoticStudyCells"/> instead of computed.</param>
public sealed record AsymptoticStudyRow(string Estimator, int Particles, GradientStatistics Statistics, double Seconds, bool Restored = false);

/// <summary>
/// The asymptotic SNR study of the paper's Figure 1 (docs/experiments.md §2.1): the Gaussian toy at its optimum plus an
/// ε-perturbation, the gradient of the full-data-set mean loss w.r.t. b, N draws per (estimator, K) with the vectorised
/// <see cref="RowwiseGradientDraws"/>, summarised by <see cref="GradientStatistics"/>. Every cell draws from the same
/// seed, so the cells of one K that a process computes are drawn together on shared particles.
/// </summary>
public sealed class AsymptoticStudy
{
    /// <summary>Create the study.</summary>
    public AsymptoticStudy(AsymptoticStudySettings settings)
    {
        settings.Validate();
        Settings = settings;
    }

    /// <summary>The settings.</summary>
    public AsymptoticStudySettings Settings { get; }

    /// <summary>The toy at its (perturbed) optimum and its data [N, D], as the reference's asymptotic script builds them.</summary>
    public (GaussianToyModel model, Tensor data) BuildModel()
    {
        var s = Settings;
        var generator = new Generator(s.Seed);
        // Built in float64 and converted afterwards, so that float32 and float64 studies share the evaluation point.
        var model = new GaussianToyModel(s.Dimension, s.Spread, ScalarType.Float64, generator);
        var (data, _) = GaussianToyModel.GenerateData(s.Dimension, s.Points, s.DataSeed, ScalarType.Float64);
        model.SetOptimum(data);
        model.Perturb(s.Perturbation, generator);
        if (s.DType != ScalarType.Float64)
        {
            model.to(s.DType);
            data = data.to(s.DType);
        }
        return (model, data);
    }

    /// <summary>
    /// Run every (estimator, K) cell of this process's <see cref="AsymptoticStudySettings.Shard"/> (all of them by
    /// default) and return them in grid order. The cells to compute are taken K by K, those of one K drawn together on
    /// shared particles; <paramref name="progress"/> receives each row as it is loaded or finished. With
    /// <paramref name="cells"/>, a cell already saved there under the same settings is loaded instead of computed, and
    /// each computed cell is saved as soon as it is finished (a killed study resumes where it stopped). With
    /// <paramref name="savedOnly"/>, nothing is computed: the cells saved in <paramref name="cells"/> are returned and the
    /// others skipped (a report on a study still running elsewhere).
    /// </summary>
    public IReadOnlyList<AsymptoticStudyRow> Run(Action<AsymptoticStudyRow>? progress = null, AsymptoticStudyCells? cells = null, bool savedOnly = false)
    {
        if (savedOnly && cells is null) throw new ArgumentException("a report of saved cells needs the cells folder");
        var s = Settings;
        var estimators = s.Estimators.Select(EstimatorRegistry.Create).ToArray();
        using var scope = NewDisposeScope();
        var (model, data) = BuildModel();
        var selection = ParameterSelection.Parse(s.Key);
        var grid = estimators.SelectMany(e => s.Particles.Select(k => (estimator: e, k))).ToArray();
        var (index, count) = s.Shard == default ? (0, 1) : s.Shard;
        // Largest K first, dealt to the shards back and forth (0, 1, …, n−1, n−1, …, 0, 0, …) so that the costly
        // cells spread evenly whatever the number of estimators.
        static int ShardOf(int position, int shards) => (position / shards) % 2 == 0 ? position % shards : shards - 1 - position % shards;
        var mine = Enumerable.Range(0, grid.Length).OrderByDescending(i => grid[i].k).ThenBy(i => i)
            .Where((_, position) => ShardOf(position, count) == index).ToHashSet();
        // This shard's cells still to compute, grouped by K (and particles per draw): the cells of a group are drawn
        // together on the same particles, exactly as each would be drawn alone (same seed), so the sampling is shared.
        var rows = new List<AsymptoticStudyRow>();
        var toCompute = new List<int>();
        for (int i = 0; i < grid.Length; i++)
        {
            if (!mine.Contains(i)) continue;
            var (estimator, k) = grid[i];
            var saved = cells?.TryLoad(estimator.Id, k);
            if (saved is not null)
            {
                rows.Add(saved);
                progress?.Invoke(saved);
            }
            else if (!savedOnly) toCompute.Add(i);
        }
        var groups = toCompute.GroupBy(i => (grid[i].k, perDraw: grid[i].estimator.ParticlesPerDraw(grid[i].k)));
        foreach (var group in groups)
        {
            var members = group.Select(i => grid[i].estimator).ToArray();
            foreach (var row in ComputeCells(model, data, selection, members, group.Key.k))
            {
                cells?.Save(row);
                rows.Add(row);
                progress?.Invoke(row);
            }
        }
        // In grid order (estimator, then K), whatever the order they were computed or loaded in.
        var position = Enumerable.Range(0, grid.Length).ToDictionary(i => (grid[i].estimator.Id, grid[i].k));
        return rows.OrderBy(r => position[(r.Estimator, r.Particles)]).ToList();
    }

    /// <summary>
    /// The cells of <paramref name="estimators"/> at one K, drawn together (<see cref="RowwiseGradientDraws.DrawEach"/>)
    /// from a fresh generator seeded with the study's seed — or one at a time when an estimator draws random numbers of
    /// its own (<see cref="SharedDrawsNotSupportedException"/>, found on the first chunk).
    /// </summary>
    private IReadOnlyList<AsymptoticStudyRow> ComputeCells(GaussianToyModel model, Tensor data, ParameterSelection selection, IReadOnlyList<GradientEstimator> estimators, int k)
    {
        try
        {
            return ComputeCellsTogether(model, data, selection, estimators, k);
        }
        catch (SharedDrawsNotSupportedException)
        {
            // Raised only when several estimators share the draws: one has randomness of its own; compute each alone.
            return estimators.SelectMany(e => ComputeCellsTogether(model, data, selection, new[] { e }, k)).ToArray();
        }
    }

    /// <summary>The cells of <paramref name="estimators"/> at one K on shared draws, in their own dispose scope; each cell's
    /// time is its estimator's own share (<see cref="RowwiseGradientDraws.EstimatorSeconds"/>).</summary>
    private IReadOnlyList<AsymptoticStudyRow> ComputeCellsTogether(GaussianToyModel model, Tensor data, ParameterSelection selection, IReadOnlyList<GradientEstimator> estimators, int k)
    {
        using var scope = NewDisposeScope();
        var watch = Stopwatch.StartNew();
        var source = new RowwiseGradientDraws(model, estimators, new EstimatorSettings(k), data, selection, Settings.ChunkElements);
        var statistics = new GradientCollector(Settings.GradientEpsilon).CollectEach(source, Settings.Draws, Settings.Seed);
        // Each cell: its estimator's own time in the draws, plus an equal share of the shared noise and the rest.
        var own = source.EstimatorSeconds;
        double rest = Math.Max(0, watch.Elapsed.TotalSeconds - own.Sum()) / estimators.Count;
        return estimators.Select((e, i) => new AsymptoticStudyRow(e.Id, k, statistics[i], own[i] + rest)).ToArray();
    }

    /// <summary>
    /// The least-squares slope of log y on log K over the given points (points with y ≤ 0 or non-finite are skipped;
    /// NaN with fewer than two points).
    /// </summary>
    public static double LogLogSlope(IEnumerable<(double k, double y)> points)
    {
        var logs = points.Where(p => p.k > 0 && p.y > 0 && double.IsFinite(p.y)).Select(p => (x: Math.Log(p.k), y: Math.Log(p.y))).ToArray();
        if (logs.Length < 2) return double.NaN;
        double mx = logs.Average(p => p.x), my = logs.Average(p => p.y);
        double sxx = logs.Sum(p => (p.x - mx) * (p.x - mx));
        return sxx == 0 ? double.NaN : logs.Sum(p => (p.x - mx) * (p.y - my)) / sxx;
    }
}
