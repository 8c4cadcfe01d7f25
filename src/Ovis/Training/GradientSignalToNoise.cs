using Ovis.Analysis;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// The trainer's periodic φ-gradient analysis (docs/estimators.md §7.2–7.4), as metric keys: N fresh gradients of the
/// batch-mean loss, one backward pass per draw, summarised by the shared <see cref="GradientStatistics"/> — masked
/// means of the SNR, variance and |mean|, the keep ratio and the DSNR.
/// </summary>
public static class GradientSignalToNoise
{
    /// <summary>Metric keys written by the <c>Measure</c> overloads.</summary>
    public const string Snr = "grads/snr", Variance = "grads/variance", Magnitude = "grads/magnitude",
                        KeepRatio = "grads/keep_ratio", DirectionalSnr = "grads/dsnr";

    /// <summary>
    /// Draw <paramref name="draws"/> gradients of <paramref name="loss"/> (called once per draw, fresh particles)
    /// w.r.t. <paramref name="parameters"/> and return the statistics of docs/estimators.md §7.3–7.4.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Measure(Func<Tensor> loss, IReadOnlyList<Parameter> parameters, int draws, double epsilon)
        => Measure(() => (IReadOnlyList<Tensor?>)torch.autograd.grad(new[] { loss() }, parameters.Cast<Tensor>().ToArray(), allow_unused: true).ToArray(),
                   parameters, draws, epsilon);

    /// <summary>
    /// The statistics of <paramref name="draws"/> gradients, each given by <paramref name="gradient"/> (one tensor per
    /// parameter of <paramref name="parameters"/>, null or invalid where a parameter got none), e.g. computed in particle
    /// chunks.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Measure(Func<IReadOnlyList<Tensor?>> gradient, IReadOnlyList<Parameter> parameters, int draws, double epsilon)
    {
        if (draws < 2) throw new ArgumentException($"the gradient variance needs at least 2 draws, got {draws}");
        using var scope = NewDisposeScope();
        var rows = new Tensor[draws];
        for (int n = 0; n < draws; n++)
        {
            using var drawScope = NewDisposeScope();
            var gradients = gradient();
            var flat = gradients.Select((g, i) => g is null || g.IsInvalid ? zeros(parameters[i].numel(), dtype: float64) : g.detach().reshape(-1).to(float64).cpu());
            rows[n] = cat(flat.ToArray(), 0).MoveToOuterDisposeScope();                    // [D]
        }
        return Statistics(stack(rows, 0), epsilon);
    }

    /// <summary>The statistics of N gradient draws g [N, D] (docs/estimators.md §7.3–7.4) as metric keys.</summary>
    public static IReadOnlyDictionary<string, double> Statistics(Tensor draws, double epsilon) => Metrics(GradientStatistics.FromDraws(draws, epsilon));

    private static IReadOnlyDictionary<string, double> Metrics(GradientStatistics statistics) => new Dictionary<string, double>
    {
        [Snr] = statistics.MeanSnr,
        [Variance] = statistics.MeanVariance,
        [Magnitude] = statistics.Magnitude,
        [KeepRatio] = statistics.KeepRatio,
        [DirectionalSnr] = statistics.DirectionalSnr,
    };
}
