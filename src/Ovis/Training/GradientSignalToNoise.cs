using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// A small N-draw gradient analysis for training runs (estimators.md §7.2–7.4): N fresh gradients of the batch-mean
/// loss w.r.t. the selected parameters, then per-coordinate mean, unbiased variance and SNR_d = |mean_d| / max(σ_d, ε),
/// reported as masked means over the coordinates with var_d &gt; ε, plus the directional SNR. Local to the trainer;
/// the general analysis lives in Analysis/.
/// </summary>
public static class GradientSignalToNoise
{
    /// <summary>Metric keys written by <see cref="Measure"/>.</summary>
    public const string Snr = "grads/snr", Variance = "grads/variance", Magnitude = "grads/magnitude",
                        KeepRatio = "grads/keep_ratio", DirectionalSnr = "grads/dsnr";

    /// <summary>
    /// Draw <paramref name="draws"/> gradients of <paramref name="loss"/> (called once per draw, fresh particles)
    /// w.r.t. <paramref name="parameters"/> and return the statistics of estimators.md §7.3–7.4.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Measure(Func<Tensor> loss, IReadOnlyList<Parameter> parameters, int draws, double epsilon)
    {
        if (draws < 2) throw new ArgumentException($"the gradient variance needs at least 2 draws, got {draws}");
        using var scope = NewDisposeScope();
        var rows = new Tensor[draws];
        for (int n = 0; n < draws; n++)
        {
            using var drawScope = NewDisposeScope();
            var value = loss();
            var gradients = torch.autograd.grad(new[] { value }, parameters.Cast<Tensor>().ToArray(), allow_unused: true);
            var flat = gradients.Select((g, i) => g is null || g.IsInvalid ? zeros(parameters[i].numel(), dtype: float64) : g.detach().reshape(-1).to(float64).cpu());
            rows[n] = cat(flat.ToArray(), 0).MoveToOuterDisposeScope();                    // [D]
        }
        return Statistics(stack(rows, 0), epsilon);
    }

    /// <summary>The statistics of N gradient draws g [N, D] (estimators.md §7.3–7.4).</summary>
    public static IReadOnlyDictionary<string, double> Statistics(Tensor draws, double epsilon)
    {
        using var scope = NewDisposeScope();
        long n = draws.shape[0], dimension = draws.shape[1];
        var shifted = draws - draws[0];                                                      // first draw as shift, [N, D]
        var shiftedMean = shifted.mean(new long[] { 0 });                                   // [D]
        var mean = shiftedMean + draws[0];                                                  // [D]
        var variance = (shifted - shiftedMean).square().sum(dim: 0) / (n - 1);              // unbiased, [D]
        var snr = mean.abs() / variance.sqrt().clamp_min(epsilon);                          // [D]
        var mask = variance.gt(epsilon).to(float64);                                        // [D]
        double kept = mask.sum().ToDouble();
        double Masked(Tensor values) => kept == 0 ? double.NaN : (mask * values).sum().ToDouble() / kept;

        var direction = mean / mean.square().sum().sqrt();                                  // u, [D]
        var parallel = draws.matmul(direction);                                             // u·g⁽ⁿ⁾, [N]
        var orthogonal = draws - parallel.unsqueeze(1) * direction.unsqueeze(0);            // [N, D]
        var dsnr = (parallel.abs() / (orthogonal.square().sum(dim: 1).sqrt() + epsilon)).mean().ToDouble();
        return new Dictionary<string, double>
        {
            [Snr] = Masked(snr),
            [Variance] = Masked(variance),
            [Magnitude] = Masked(mean.abs()),
            [KeepRatio] = kept / dimension,
            [DirectionalSnr] = dsnr,
        };
    }
}
