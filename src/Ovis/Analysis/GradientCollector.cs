using Ovis.Estimators;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Analysis;

/// <summary>
/// Draws N gradients from a source and computes their <see cref="GradientStatistics"/> (docs/estimators.md §7) with
/// bounded memory. Pass 1 streams the draws into O(D) shifted sums (mean, variance). The directional SNR needs the
/// mean first, so it is a second pass: when N·D·8 bytes fit in <see cref="StoreBudgetBytes"/> the draws of pass 1 are
/// kept and re-read, otherwise the source replays the identical draws from the same seed (twice the compute, O(D)
/// memory).
/// </summary>
public sealed class GradientCollector
{
    /// <summary>Default budget for keeping draws between the passes: 256 MB.</summary>
    public const long DefaultStoreBudgetBytes = 256L << 20;

    /// <summary>Create a collector with the threshold ε (default 1e-15, the reference's grad_epsilon).</summary>
    public GradientCollector(double epsilon = 1e-15, long storeBudgetBytes = DefaultStoreBudgetBytes)
    {
        if (!(epsilon >= 0)) throw new ArgumentException($"ε must be non-negative, got {epsilon}");
        Epsilon = epsilon;
        StoreBudgetBytes = storeBudgetBytes;
    }

    /// <summary>ε, the variance threshold and SNR floor.</summary>
    public double Epsilon { get; }

    /// <summary>Largest draw storage kept between the passes, in bytes.</summary>
    public long StoreBudgetBytes { get; }

    /// <summary>True when the last <see cref="Collect(IGradientDrawSource, int, ulong, double[])"/> replayed the source for the DSNR pass.</summary>
    public bool LastRunReplayed { get; private set; }

    /// <summary>
    /// The statistics of <paramref name="draws"/> gradients of <paramref name="estimator"/>'s batch-mean loss on
    /// <paramref name="data"/> w.r.t. the selected parameters (e.g. a trainer's periodic SNR of the inference network,
    /// docs/estimators.md §7.1). Uses the vectorised <see cref="RowwiseGradientDraws"/> when the model supports per-row
    /// evaluation and <paramref name="vectorise"/> is set, else one backward pass per draw.
    /// </summary>
    public GradientStatistics Collect(LatentVariableModel model, GradientEstimator estimator, EstimatorSettings settings, Tensor data,
                                      ParameterSelection selection, int draws, ulong seed, bool vectorise = true, double[]? trueGradient = null)
    {
        IGradientDrawSource source = vectorise && model is IRowwiseGradientModel
            ? new RowwiseGradientDraws(model, estimator, settings, data, selection)
            : new BackwardGradientDraws(model, estimator, settings, data, selection);
        return Collect(source, draws, seed, trueGradient);
    }

    /// <summary>
    /// Draw <paramref name="draws"/> gradients with a fresh generator seeded with <paramref name="seed"/> and return
    /// their statistics, compared with <paramref name="trueGradient"/> when given.
    /// </summary>
    public GradientStatistics Collect(IGradientDrawSource source, int draws, ulong seed, double[]? trueGradient = null)
        => CollectOutputs(1, source.Dimension, draws, consume => source.Draw(draws, seed, chunk => consume(0, chunk)), trueGradient)[0];

    /// <summary>
    /// The statistics of <paramref name="draws"/> gradients of each of the source's estimators, all drawn on the same
    /// particles (<see cref="RowwiseGradientDraws.DrawEach"/>); element i belongs to <c>source.Estimators[i]</c> and
    /// equals what <see cref="Collect(IGradientDrawSource, int, ulong, double[])"/> gives for that estimator alone.
    /// </summary>
    public IReadOnlyList<GradientStatistics> CollectEach(RowwiseGradientDraws source, int draws, ulong seed)
        => CollectOutputs(source.Estimators.Count, source.Dimension, draws, consume => source.DrawEach(draws, seed, consume), null);

    /// <summary>
    /// Both passes over <paramref name="outputs"/> interleaved streams of draws: <paramref name="pass"/> runs the source
    /// once, handing each chunk with its output index to the consumer it is given.
    /// </summary>
    private GradientStatistics[] CollectOutputs(int outputs, int dimension, int draws, Action<Action<int, Tensor>> pass, double[]? trueGradient)
    {
        if (draws < 2) throw new ArgumentException($"gradient statistics need at least 2 draws, got {draws}");
        var moments = Enumerable.Range(0, outputs).Select(_ => new GradientMomentAccumulator(dimension, Epsilon)).ToArray();
        bool store = (long)outputs * draws * dimension * sizeof(double) <= StoreBudgetBytes;
        // One buffer for every kept draw, allocated before the first chunk: a small tensor kept per chunk would sit
        // between the chunks' large freed blocks and fragment the heap (docs/gradient-analysis.md).
        using var stored = store ? zeros(new long[] { outputs, draws, dimension }, dtype: float64) : null;   // [E, N, D]
        stored?.DetachFromDisposeScope();
        var kept = new long[outputs];
        pass((output, chunk) =>
        {
            moments[output].Add(chunk);
            if (stored is null) return;
            using var scope = NewDisposeScope();
            if (kept[output] + chunk.shape[0] > draws) throw new InvalidOperationException($"the draw source produced more than {draws} draws");
            stored[output].narrow(0, kept[output], chunk.shape[0]).copy_(chunk.detach());
            kept[output] += chunk.shape[0];
        });
        if (moments.FirstOrDefault(m => m.Draws != draws) is { } incomplete)
            throw new InvalidOperationException($"the draw source produced {incomplete.Draws} draws instead of {draws}");
        var directional = moments.Select(m => new DirectionalSnrAccumulator(m.Mean(), Epsilon)).ToArray();
        LastRunReplayed = stored is null;
        if (stored is not null)
            for (int i = 0; i < outputs; i++)
            {
                using var scope = NewDisposeScope();
                directional[i].Add(stored[i]);
            }
        else pass((output, chunk) => directional[output].Add(chunk));
        return Enumerable.Range(0, outputs).Select(i => GradientStatistics.From(moments[i], directional[i], trueGradient)).ToArray();
    }
}
