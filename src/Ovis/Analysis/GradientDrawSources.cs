using System.Diagnostics;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Analysis;

/// <summary>
/// Produces independent gradient draws g⁽ⁿ⁾ of an estimator's batch-mean loss w.r.t. selected parameters
/// (docs/estimators.md §7.2), in chunks. The draws are a deterministic function of the seed, so a second pass can replay
/// them exactly.
/// </summary>
public interface IGradientDrawSource
{
    /// <summary>D, the length of one flattened draw.</summary>
    int Dimension { get; }

    /// <summary>The selected parameters, in the draw's layout order.</summary>
    IReadOnlyList<NamedParameter> Parameters { get; }

    /// <summary>
    /// Produce <paramref name="count"/> draws from a fresh <c>torch.Generator(seed)</c>, passing each chunk
    /// [n, D] (float64, detached) to <paramref name="consume"/>; the chunk is disposed after the call returns.
    /// </summary>
    void Draw(int count, ulong seed, Action<Tensor> consume);
}

/// <summary>
/// The plain draw source: one forward pass and one <c>autograd.grad</c> per draw, through
/// <see cref="GradientEstimator.Compute"/>. Works for any model and estimator; used by trainers for the periodic SNR
/// of the inference network and as the reference the vectorised source is tested against.
/// </summary>
public sealed class BackwardGradientDraws : IGradientDrawSource
{
    private readonly LatentVariableModel model;
    private readonly GradientEstimator estimator;
    private readonly EstimatorSettings settings;
    private readonly Tensor data;

    /// <summary>Draws of <paramref name="estimator"/> at <paramref name="settings"/> on the batch <paramref name="data"/> [B, ...].</summary>
    public BackwardGradientDraws(LatentVariableModel model, GradientEstimator estimator, EstimatorSettings settings, Tensor data, ParameterSelection selection)
    {
        this.model = model;
        this.estimator = estimator;
        this.settings = settings;
        this.data = data;
        Parameters = selection.Select(model);
        Dimension = (int)Parameters.Sum(p => p.Parameter.numel());
    }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <inheritdoc />
    public IReadOnlyList<NamedParameter> Parameters { get; }

    /// <inheritdoc />
    public void Draw(int count, ulong seed, Action<Tensor> consume)
    {
        var generator = new Generator(seed);
        var parameters = Parameters.Select(p => (Tensor)p.Parameter).ToArray();
        var release = new NativeMemory();
        long elementsPerDraw = data.numel() * settings.OuterSamples * estimator.ParticlesPerDraw(settings.Particles);
        for (int n = 0; n < count; n++)
        {
            using var scope = NewDisposeScope();
            var result = estimator.Compute(new EstimatorContext(settings, model, data, generator, Diagnostics: false));
            var gradients = torch.autograd.grad(new[] { result.Loss }, parameters, allow_unused: true);
            var flat = gradients.Select((g, i) => g is null || g.IsInvalid ? zeros(parameters[i].numel(), dtype: float64) : g.reshape(-1).to(float64));
            consume(cat(flat.ToArray(), 0).unsqueeze(0));                                       // [1, D]
            release.After(elementsPerDraw);
        }
    }
}

/// <summary>
/// The vectorised draw source of the asymptotic study (docs/experiments.md §2.1). The batch-mean gradient of one draw is
/// the mean of independent per-data-point gradients, so R draws over N points are R·N independent rows: the data are
/// replicated, the model is evaluated with per-row parameter copies (<see cref="IRowwiseGradientModel"/>), the
/// estimator's own surrogate is built once (<see cref="GradientEstimator.ComputeWith"/>), and ONE <c>autograd.grad</c>
/// w.r.t. the per-row leaves yields every row's gradient; each draw is then the mean of its N rows.
/// <para>
/// Rows are processed in chunks of at most <see cref="ChunkElements"/> latent elements (rows × particles × row size),
/// so memory is bounded whatever N, R and K are; a chunk may hold many draws (small K) or part of one draw (large K).
/// The estimator's loss must be a mean over data points of per-point terms (true of the score-function surrogate of
/// docs/estimators.md §3 and of the pathwise bounds). Draws are deterministic given (seed, chunk size).
/// </para>
/// <para>
/// Several estimators can be drawn together (<see cref="DrawEach"/>): the noise of each chunk is drawn once and every
/// estimator is evaluated on it, which gives each exactly the draws it gets alone from the same seed (tested bit for
/// bit) while the sampling — about 87 of the 190 ns per particle of a score-function estimator at K = 1000 — is paid
/// once.
/// </para>
/// </summary>
public sealed class RowwiseGradientDraws : IGradientDrawSource
{
    /// <summary>Default chunk budget: 4·2²⁰ latent elements (16 MB per float32 particle tensor).</summary>
    public const long DefaultChunkElements = 4L << 20;

    private readonly LatentVariableModel model;
    private readonly IRowwiseGradientModel rowwise;
    private readonly EstimatorSettings settings;
    private readonly Tensor data;
    private readonly int particles;
    private readonly long elementsPerRow;

    /// <summary>Draws of <paramref name="estimator"/> on the full batch <paramref name="data"/> [N, ...].</summary>
    public RowwiseGradientDraws(LatentVariableModel model, GradientEstimator estimator, EstimatorSettings settings, Tensor data,
                                ParameterSelection selection, long chunkElements = DefaultChunkElements)
        : this(model, new[] { estimator }, settings, data, selection, chunkElements) { }

    /// <summary>
    /// Draws of several estimators on the SAME particles (<see cref="DrawEach"/>): each chunk's noise is drawn once and
    /// every estimator is evaluated on it, so the sampling — most of the cost at large K — is shared, and each
    /// estimator's draws are exactly those it would get alone from the same seed. The estimators must draw the same
    /// number of particles per data point and no random numbers of their own (checked).
    /// </summary>
    public RowwiseGradientDraws(LatentVariableModel model, IReadOnlyList<GradientEstimator> estimators, EstimatorSettings settings, Tensor data,
                                ParameterSelection selection, long chunkElements = DefaultChunkElements)
    {
        rowwise = model as IRowwiseGradientModel
            ?? throw new NotSupportedException($"model '{model.GetName()}' cannot evaluate per-row parameter copies (IRowwiseGradientModel); use BackwardGradientDraws");
        if (estimators.Count == 0) throw new ArgumentException("name at least one estimator");
        if (chunkElements <= 0) throw new ArgumentException($"the chunk budget must be positive, got {chunkElements}");
        settings.Validate();
        foreach (var estimator in estimators) estimator.ValidateParticles(settings.Particles);
        var counts = estimators.Select(e => settings.OuterSamples * e.ParticlesPerDraw(settings.Particles)).Distinct().ToArray();
        if (counts.Length > 1)
            throw new ArgumentException($"estimators drawn together must use the same particles per data point; {string.Join(", ", estimators.Select(e => $"{e.Id} draws {settings.OuterSamples * e.ParticlesPerDraw(settings.Particles)}"))}");
        this.model = model;
        Estimators = estimators.ToArray();
        this.settings = settings;
        this.data = data;
        particles = counts[0];
        estimatorSeconds = new double[estimators.Count];
        ChunkElements = chunkElements;
        Parameters = selection.Select(model);
        Dimension = (int)Parameters.Sum(p => p.Parameter.numel());
        long rowSize = data.shape.Skip(1).Aggregate(1L, (a, s) => a * s);
        elementsPerRow = Math.Max(1, particles * rowSize);
        RowsPerChunk = Math.Max(1, chunkElements / elementsPerRow);
    }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <inheritdoc />
    public IReadOnlyList<NamedParameter> Parameters { get; }

    /// <summary>The estimators whose draws this source produces, in the order of <see cref="DrawEach"/>'s index.</summary>
    public IReadOnlyList<GradientEstimator> Estimators { get; }

    /// <summary>The chunk budget in latent elements.</summary>
    public long ChunkElements { get; }

    /// <summary>Data rows (draw × point pairs) evaluated together.</summary>
    public long RowsPerChunk { get; }

    /// <summary>
    /// Seconds spent on each estimator by the draws so far: its own evaluation plus an equal share of the shared
    /// noise (what a cell computed together with others costs).
    /// </summary>
    public double[] EstimatorSeconds => estimatorSeconds.ToArray();

    private readonly double[] estimatorSeconds;

    /// <inheritdoc />
    public void Draw(int count, ulong seed, Action<Tensor> consume)
    {
        if (Estimators.Count != 1) throw new InvalidOperationException($"this source draws {Estimators.Count} estimators: use DrawEach");
        DrawEach(count, seed, (_, chunk) => consume(chunk));
    }

    /// <summary>
    /// Produce <paramref name="count"/> draws of every estimator from one <c>torch.Generator(seed)</c>, passing each
    /// chunk [n, D] (float64, detached) with the estimator's index to <paramref name="consume"/>.
    /// </summary>
    public void DrawEach(int count, ulong seed, Action<int, Tensor> consume)
    {
        var generator = new Generator(seed);
        long totalRows = count * data.shape[0];
        // Σ of the row gradients of the draw still being completed, [E, D] float64, allocated once: a small tensor that
        // outlived each chunk would fragment the heap between the chunks' large blocks.
        using var pending = zeros(new long[] { Estimators.Count, Dimension }, dtype: float64);
        pending.DetachFromDisposeScope();
        bool hasPending = false;
        var release = new NativeMemory();
        for (long start = 0; start < totalRows; start += RowsPerChunk)
        {
            long rows = Math.Min(RowsPerChunk, totalRows - start);
            hasPending = ProcessChunk(start, rows, generator, pending, hasPending, consume);
            release.After(rows * elementsPerRow * Estimators.Count);
        }
    }

    /// <summary>
    /// Evaluate rows [start, start + rows) (row i is data point i mod N of draw i / N) for every estimator, pass on the
    /// draws completed in this chunk, and leave in <paramref name="pending"/> the partial sums of the draw that continues
    /// into the next chunk (returns whether there is one). <paramref name="hasPending"/>: the chunk's first draw began
    /// in an earlier chunk.
    /// </summary>
    private bool ProcessChunk(long start, long rows, Generator generator, Tensor pending, bool hasPending, Action<int, Tensor> consume)
    {
        using var scope = NewDisposeScope();
        long points = data.shape[0];
        var rowIndex = arange(start, start + rows, dtype: ScalarType.Int64);                   // [c]
        var pointIndex = rowIndex.remainder(points);
        var drawIndex = rowIndex.div(points, rounding_mode: RoundingMode.floor);
        var x = data.index_select(0, pointIndex);                                               // [c, ...]
        long firstDraw = start / points, lastDraw = (start + rows - 1) / points;
        long completed = (start + rows) / points - firstDraw;                                  // draws whose last row is in this chunk
        bool continues = firstDraw + completed <= lastDraw;

        // One estimator draws its own noise inside the forward pass; several share one draw of it.
        bool shared = Estimators.Count > 1;
        var watch = Stopwatch.StartNew();
        var noise = shared ? rowwise.DrawRowwiseNoise(rows, particles, generator) : null;     // [c, P, ...]
        var state = shared ? generator.get_state() : null;
        double noiseShare = watch.Elapsed.TotalSeconds / Estimators.Count;
        for (int e = 0; e < Estimators.Count; e++)
        {
            watch.Restart();
            using var estimatorScope = NewDisposeScope();
            var rowGradient = RowGradients(Estimators[e], x, rows, generator, noise);          // [c, D] float64
            if (state is not null && !generator.get_state().eq(state).all().item<bool>())
                throw new SharedDrawsNotSupportedException(Estimators[e].Id);
            var sums = zeros(new long[] { lastDraw - firstDraw + 1, Dimension }, dtype: float64)
                .index_add_(0, drawIndex - firstDraw, rowGradient, 1.0);                        // [draws in chunk, D]
            if (hasPending) sums[0].add_(pending[e]);  // the pending draw is always the chunk's first
            if (completed > 0) consume(e, sums.narrow(0, 0, completed) / points);
            if (continues) pending[e].copy_(sums[completed]);
            estimatorSeconds[e] += noiseShare + watch.Elapsed.TotalSeconds;
        }
        return continues;
    }

    /// <summary>Every row's own gradient of <paramref name="estimator"/>'s loss w.r.t. the selected parameters, [c, D] float64.</summary>
    private Tensor RowGradients(GradientEstimator estimator, Tensor x, long rows, Generator generator, Tensor? noise)
    {
        Tensor[]? leaves = null;
        var result = estimator.ComputeWith(new EstimatorContext(settings, model, x, generator, Diagnostics: false), (count, options) =>
        {
            var forward = rowwise.ForwardRowwise(x, count, options, noise);
            leaves = forward.Leaves.ToArray();
            return forward.Densities;
        });
        // loss = mean over the c rows, so row i's own gradient is c·∂loss/∂leaf_i.
        var leafGradients = torch.autograd.grad(new[] { result.Loss * rows }, leaves!, allow_unused: true)
            .Select((g, i) => g is null || g.IsInvalid ? zeros_like(leaves![i]) : g).ToArray();
        return cat(Parameters.Select(p => rowwise.RowGradient(p.Parameter, x, leafGradients).to(float64)).ToArray(), 1);
    }
}

/// <summary>Thrown when an estimator drawn together with others draws random numbers of its own (e.g. wake-sleep's
/// sleep samples), so sharing the particles would change its draws: compute it alone.</summary>
public sealed class SharedDrawsNotSupportedException(string estimator)
    : NotSupportedException($"estimator '{estimator}' draws random numbers of its own, so it cannot share the draws of other estimators; compute it alone")
{
    /// <summary>The estimator's id.</summary>
    public string Estimator { get; } = estimator;
}

/// <summary>
/// Frees native memory held by finalisable TorchSharp objects outside dispose scopes (e.g. the Scalar wrappers
/// created for every tensor–number operation). With the allocator fix (docs/platform.md §7, freed memory is kept), those
/// small long-lived allocations sit between the large particle tensors and fragment the heap, so the resident set
/// grows by about two particle tensors per chunk; a full collection every few million processed elements keeps it
/// flat (docs/gradient-analysis.md).
/// </summary>
internal sealed class NativeMemory
{
    /// <summary>Processed latent elements between two collections.</summary>
    public const long ElementsBetweenCollections = 4L << 20;

    private long sinceCollection;

    /// <summary>Record <paramref name="elements"/> processed elements and collect when the threshold is passed.</summary>
    public void After(long elements)
    {
        sinceCollection += elements;
        if (sinceCollection < ElementsBetweenCollections) return;
        sinceCollection = 0;
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }
}
