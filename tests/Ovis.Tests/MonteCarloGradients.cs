using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests;

/// <summary>
/// Draws N independent gradient estimates (ascent direction, θ then φ, flattened) of an estimator's batch-mean
/// loss from a fixed seed, and summarises them per coordinate by the mean and its standard error.
/// </summary>
internal static class MonteCarloGradients
{
    public sealed record Summary(double[] Mean, double[] StandardError, int Draws);

    /// <param name="data">the batch passed to every draw (repeat points to average many estimates per draw).</param>
    public static Summary Sample(GradientEstimator estimator, LatentVariableModel model, Tensor data, EstimatorSettings settings, int draws, ulong seed)
    {
        var generator = new Generator(seed);
        var parameters = model.AllParameters().Cast<Tensor>().ToArray();
        double[]? sum = null, sumSquares = null;
        for (int n = 0; n < draws; n++)
        {
            using var scope = NewDisposeScope();
            var loss = estimator.Compute(new EstimatorContext(settings, model, data, generator)).Loss;
            var gradients = torch.autograd.grad(new[] { loss }, parameters, allow_unused: true);
            var flat = cat(gradients.Select((g, i) => g is null || g.IsInvalid ? zeros(parameters[i].numel(), dtype: float64) : -g.reshape(-1).to(float64)).ToArray(), 0)
                .data<double>().ToArray();
            sum ??= new double[flat.Length];
            sumSquares ??= new double[flat.Length];
            for (int i = 0; i < flat.Length; i++) { sum[i] += flat[i]; sumSquares[i] += flat[i] * flat[i]; }
        }
        var mean = sum!.Select(s => s / draws).ToArray();
        var standardError = sumSquares!.Select((s, i) => Math.Sqrt(Math.Max(s / draws - mean[i] * mean[i], 0) * draws / (draws - 1) / draws)).ToArray();
        return new Summary(mean, standardError, draws);
    }
}
