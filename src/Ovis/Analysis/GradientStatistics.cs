using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Analysis;

/// <summary>
/// The SNR percentiles of docs/estimators.md §7.4 over ALL D coordinates (unmasked): percentile q is the
/// (⌊q·D⌋ + 1)-th smallest value.
/// </summary>
public sealed record SnrPercentiles(double P5, double P25, double P50, double P75, double P95, double Min, double Max, double Mean);

/// <summary>How an estimator's mean gradient compares with a known (or reference) true gradient.</summary>
/// <param name="RelativeBias">‖E ĝ − g‖ / ‖g‖.</param>
/// <param name="Cosine">cos(E ĝ, g), the reference's <c>grads/direction</c>.</param>
/// <param name="TrueNorm">‖g‖.</param>
public sealed record TrueGradientComparison(double RelativeBias, double Cosine, double TrueNorm);

/// <summary>
/// Per-coordinate gradient statistics over N draws and the reported summaries of docs/estimators.md §7.3–7.4:
/// mean_d, unbiased var_d, snr_d = |mean_d| / max(√var_d, ε), mask_d = 1[var_d &gt; ε]; masked means of variance,
/// |mean| (magnitude) and SNR; keep ratio; SNR percentiles; the directional SNR (Rainforth et al. 2018, eq. 12);
/// and, when a true gradient is supplied, the relative bias and cosine.
/// </summary>
public sealed class GradientStatistics
{
    private GradientStatistics(long draws, double epsilon, double[] mean, double[] variance, double directionalSnr, TrueGradientComparison? comparison)
    {
        Draws = draws;
        Epsilon = epsilon;
        Mean = mean;
        Variance = variance;
        Snr = mean.Select((m, d) => Math.Abs(m) / Math.Max(Math.Sqrt(variance[d]), epsilon)).ToArray();
        Mask = variance.Select(v => v > epsilon).ToArray();
        int kept = Mask.Count(m => m);
        KeepRatio = mean.Length == 0 ? 0 : (double)kept / mean.Length;
        MeanVariance = MaskedMean(variance);
        Magnitude = MaskedMean(mean.Select(Math.Abs).ToArray());
        MeanSnr = MaskedMean(Snr);
        Percentiles = PercentilesOf(Snr);
        DirectionalSnr = directionalSnr;
        Comparison = comparison;
    }

    /// <summary>N, the number of gradient draws.</summary>
    public long Draws { get; }
    /// <summary>D, the number of coordinates.</summary>
    public int Dimension => Mean.Length;
    /// <summary>ε: the variance threshold of the mask and the standard-deviation floor of the SNR (§7.3).</summary>
    public double Epsilon { get; }
    /// <summary>mean_d over the draws.</summary>
    public double[] Mean { get; }
    /// <summary>var_d, the unbiased sample variance (denominator N − 1).</summary>
    public double[] Variance { get; }
    /// <summary>snr_d = |mean_d| / max(√var_d, ε).</summary>
    public double[] Snr { get; }
    /// <summary>mask_d = var_d &gt; ε.</summary>
    public bool[] Mask { get; }
    /// <summary><c>grads/keep_ratio</c> = Σ mask / D.</summary>
    public double KeepRatio { get; }
    /// <summary><c>grads/variance</c> = Σ mask·var / Σ mask (NaN when no coordinate is kept).</summary>
    public double MeanVariance { get; }
    /// <summary><c>grads/magnitude</c> = Σ mask·|mean| / Σ mask.</summary>
    public double Magnitude { get; }
    /// <summary><c>grads/snr</c> = Σ mask·snr / Σ mask.</summary>
    public double MeanSnr { get; }
    /// <summary><c>snr/{p5, …}</c> over all coordinates.</summary>
    public SnrPercentiles Percentiles { get; }
    /// <summary><c>grads/dsnr</c> = mean_n ‖g∥‖ / (ε + ‖g⊥‖) with u = mean/‖mean‖ (§7.4).</summary>
    public double DirectionalSnr { get; }
    /// <summary>Bias and cosine against the supplied true gradient, or null.</summary>
    public TrueGradientComparison? Comparison { get; }

    private double MaskedMean(double[] values)
    {
        double sum = 0; int count = 0;
        for (int d = 0; d < values.Length; d++)
            if (Mask[d]) { sum += values[d]; count++; }
        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>The (⌊q·D⌋ + 1)-th smallest value (1-based), i.e. index min(⌊q·D⌋, D − 1) of the sorted values (§7.4).</summary>
    public static double Percentile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) throw new ArgumentException("a percentile needs at least one value");
        if (!(q >= 0 && q <= 1)) throw new ArgumentException($"the percentile level must lie in [0, 1], got {q}");
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[Math.Min((int)Math.Floor(q * sorted.Length), sorted.Length - 1)];
    }

    private static SnrPercentiles PercentilesOf(double[] snr)
        => snr.Length == 0
            ? new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN)
            : new(Percentile(snr, 0.05), Percentile(snr, 0.25), Percentile(snr, 0.5), Percentile(snr, 0.75), Percentile(snr, 0.95),
                  snr.Min(), snr.Max(), snr.Average());

    /// <summary>Combine the two passes: the moments and the directional SNR accumulated with their mean.</summary>
    public static GradientStatistics From(GradientMomentAccumulator moments, DirectionalSnrAccumulator directional, double[]? trueGradient = null)
    {
        if (directional.Draws != moments.Draws)
            throw new ArgumentException($"the directional pass saw {directional.Draws} draws but the moment pass {moments.Draws}; both passes must see the same draws");
        var mean = moments.Mean();
        return new GradientStatistics(moments.Draws, moments.Epsilon, mean, moments.Variance(), directional.Value,
            trueGradient is null ? null : Compare(mean, trueGradient));
    }

    /// <summary>
    /// Rebuild the statistics from the sufficient values a resumable study saves (N, ε, mean_d, var_d and the DSNR);
    /// every other statistic is a function of these.
    /// </summary>
    public static GradientStatistics Restore(long draws, double epsilon, double[] mean, double[] variance, double directionalSnr)
    {
        if (mean.Length != variance.Length) throw new ArgumentException($"mean has {mean.Length} coordinates but variance {variance.Length}");
        if (draws < 2) throw new ArgumentException($"gradient statistics need at least 2 draws, got {draws}");
        return new GradientStatistics(draws, epsilon, mean.ToArray(), variance.ToArray(), directionalSnr, null);
    }

    /// <summary>All statistics of draws held in memory, [N, D] (any floating dtype).</summary>
    public static GradientStatistics FromDraws(Tensor draws, double epsilon, double[]? trueGradient = null)
    {
        var moments = new GradientMomentAccumulator((int)draws.shape[1], epsilon);
        moments.Add(draws);
        var directional = new DirectionalSnrAccumulator(moments.Mean(), epsilon);
        directional.Add(draws);
        return From(moments, directional, trueGradient);
    }

    /// <summary>Relative bias and cosine of <paramref name="mean"/> against <paramref name="truth"/>.</summary>
    public static TrueGradientComparison Compare(IReadOnlyList<double> mean, IReadOnlyList<double> truth)
    {
        if (mean.Count != truth.Count)
            throw new ArgumentException($"the true gradient has {truth.Count} coordinates but the draws have {mean.Count}");
        double diff = 0, dot = 0, nm = 0, nt = 0;
        for (int d = 0; d < mean.Count; d++)
        {
            diff += (mean[d] - truth[d]) * (mean[d] - truth[d]);
            dot += mean[d] * truth[d];
            nm += mean[d] * mean[d];
            nt += truth[d] * truth[d];
        }
        return new TrueGradientComparison(Math.Sqrt(diff / nt), dot / Math.Sqrt(nm * nt), Math.Sqrt(nt));
    }
}

/// <summary>
/// Streaming first and second moments per coordinate (docs/estimators.md §7.3), in float64 with the first draw as a
/// shift for stability: memory O(D) whatever the number of draws.
/// </summary>
public sealed class GradientMomentAccumulator
{
    private Tensor? shift;                 // [D], the first draw
    private readonly Tensor sum;           // Σ (g − shift), [D]
    private readonly Tensor sumSquares;    // Σ (g − shift)², [D]

    /// <summary>Create an accumulator for D coordinates with the threshold ε.</summary>
    public GradientMomentAccumulator(int dimension, double epsilon)
    {
        if (dimension <= 0) throw new ArgumentException($"the gradient must have at least one coordinate, got {dimension}");
        if (!(epsilon >= 0)) throw new ArgumentException($"ε must be non-negative, got {epsilon}");
        Dimension = dimension;
        Epsilon = epsilon;
        sum = zeros(dimension, dtype: float64);
        sumSquares = zeros(dimension, dtype: float64);
        sum.DetachFromDisposeScope();
        sumSquares.DetachFromDisposeScope();
    }

    /// <summary>D.</summary>
    public int Dimension { get; }
    /// <summary>ε.</summary>
    public double Epsilon { get; }
    /// <summary>Draws seen so far.</summary>
    public long Draws { get; private set; }

    /// <summary>Add a chunk of draws, [n, D].</summary>
    public void Add(Tensor draws)
    {
        if (draws.dim() != 2 || draws.shape[1] != Dimension)
            throw new ArgumentException($"draws must be [n, {Dimension}], got [{string.Join(", ", draws.shape)}]");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = draws.detach().to(float64);
        if (shift is null)
        {
            shift = values[0].clone();
            shift.DetachFromDisposeScope();
        }
        var centred = values - shift;                                                        // [n, D]
        sum.add_(centred.sum(dim: 0));
        sumSquares.add_(centred.square().sum(dim: 0));
        Draws += draws.shape[0];
    }

    /// <summary>mean_d.</summary>
    public double[] Mean()
    {
        if (Draws == 0) throw new InvalidOperationException("no gradient draws were added");
        using var scope = NewDisposeScope();
        return (shift! + sum / Draws).data<double>().ToArray();
    }

    /// <summary>var_d = (Σ(g − s)² − (Σ(g − s))²/N) / (N − 1), clamped at 0; needs N ≥ 2.</summary>
    public double[] Variance()
    {
        if (Draws < 2) throw new InvalidOperationException($"the variance needs at least 2 draws, got {Draws}");
        using var scope = NewDisposeScope();
        return ((sumSquares - sum.square() / Draws) / (Draws - 1)).clamp_min(0).data<double>().ToArray();
    }
}

/// <summary>
/// The directional SNR of docs/estimators.md §7.4 for a known mean: u = mean/‖mean‖, and per draw
/// ‖g∥‖ / (ε + ‖g⊥‖) with g∥ = (u·g)u, g⊥ = g − g∥, averaged over the draws. It needs the mean first, so it is the
/// second pass over the draws (from memory or by replaying the same seed, see <see cref="GradientCollector"/>).
/// </summary>
public sealed class DirectionalSnrAccumulator
{
    private readonly Tensor direction;   // u, [D]
    private double total;

    /// <summary>Create the pass for the mean gradient <paramref name="mean"/>.</summary>
    public DirectionalSnrAccumulator(IReadOnlyList<double> mean, double epsilon)
    {
        Epsilon = epsilon;
        var m = tensor(mean.ToArray(), dtype: float64);
        var norm = m.norm().ToDouble();
        direction = norm > 0 ? m / norm : zeros_like(m);
        direction.DetachFromDisposeScope();
    }

    /// <summary>ε.</summary>
    public double Epsilon { get; }
    /// <summary>Draws seen so far.</summary>
    public long Draws { get; private set; }

    /// <summary>Add a chunk of draws, [n, D].</summary>
    public void Add(Tensor draws)
    {
        if (draws.dim() != 2 || draws.shape[1] != direction.shape[0])
            throw new ArgumentException($"draws must be [n, {direction.shape[0]}], got [{string.Join(", ", draws.shape)}]");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = draws.detach().to(float64);                                             // [n, D]
        var projection = values.matmul(direction);                                           // u·g, [n]
        var perpendicular = (values - projection.unsqueeze(1) * direction).square().sum(dim: 1).sqrt(); // ‖g⊥‖, [n]
        total += (projection.abs() / (perpendicular + Epsilon)).sum().ToDouble();
        Draws += draws.shape[0];
    }

    /// <summary>The DSNR, mean over the draws.</summary>
    public double Value => Draws == 0 ? throw new InvalidOperationException("no gradient draws were added") : total / Draws;
}
