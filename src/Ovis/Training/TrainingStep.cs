using Ovis.Estimators;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// One optimisation step (docs/experiments.md §1.3), inside its own dispose scope: the estimator's surrogate loss on a
/// mini-batch with K particles drawn from the run's generator (in chunks when asked, <see cref="ChunkedGradient"/>),
/// backward, and one Adam step per optimiser group. A
/// non-finite loss or log-weight stops training (<see cref="TrainingDivergedException"/>) before the optimisers
/// move.
/// </summary>
internal sealed class TrainingStep
{
    private readonly TrainingTask task;
    private readonly GradientEstimator estimator;
    private readonly OptimizerSet optimizers;
    private readonly int particleChunk;

    /// <summary>
    /// Steps <paramref name="task"/>'s model with <paramref name="estimator"/> and <paramref name="optimizers"/>, the
    /// particles in chunks of <paramref name="particleChunk"/> (0: all at once).
    /// </summary>
    public TrainingStep(TrainingTask task, GradientEstimator estimator, OptimizerSet optimizers, int particleChunk = 0)
    {
        this.task = task;
        this.estimator = estimator;
        this.optimizers = optimizers;
        this.particleChunk = particleChunk;
    }

    /// <summary>
    /// Take step <paramref name="step"/> on batch <paramref name="x"/> [B, ...] with estimator settings
    /// <paramref name="settings"/>; adds each diagnostic's batch mean to <paramref name="sums"/> under <paramref name="prefix"/>.
    /// </summary>
    public void Take(long step, Tensor x, EstimatorSettings settings, Generator generator, Dictionary<string, double> sums, string prefix)
    {
        EstimatorResult result;
        optimizers.ZeroGradients();
        try
        {
            result = ChunkedGradient.Backward(estimator, new EstimatorContext(settings, task.Model, x, generator), particleChunk);
        }
        catch (NonFiniteLogWeightsException e)
        {
            throw new TrainingDivergedException(step, "the log-weights", e);
        }
        if (!double.IsFinite(result.Loss.ToDouble())) throw new TrainingDivergedException(step, "the loss");   // before the parameters move
        optimizers.Step();
        foreach (var (key, value) in result.Diagnostics)
        {
            var name = prefix + key;
            sums[name] = sums.GetValueOrDefault(name) + value.mean().ToDouble();
        }
    }

    /// <summary>Throw <see cref="TrainingDivergedException"/> when any parameter of any optimiser group is not finite.</summary>
    public void CheckParameters(long step)
    {
        using var noGrad = no_grad();
        foreach (var (name, flat) in optimizers.Buffers)
            using (var finite = flat.isfinite().all())
                if (!finite.ToBoolean()) throw new TrainingDivergedException(step, $"a parameter of group '{name}'");
    }
}
