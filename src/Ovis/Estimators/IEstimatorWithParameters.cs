using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// An estimator that owns trainable parameters ψ of its own, such as the neural baseline of
/// <c>reinforce-baseline</c> (docs/estimators.md §4.1). The trainer builds them before the first step, trains them with
/// an Adam optimiser of their own at <see cref="ParameterLearningRate"/> (scaled by the run's learning-rate
/// reductions), and writes them and that optimiser's state into every checkpoint.
/// </summary>
public interface IEstimatorWithParameters
{
    /// <summary>
    /// Build ψ for data shaped like <paramref name="example"/> [B, ...] (its dtype and device), initialised from
    /// <paramref name="generator"/>, and return them; the estimator keeps using these parameters afterwards.
    /// </summary>
    IReadOnlyList<Parameter> InitializeParameters(Tensor example, Generator generator);

    /// <summary>The learning rate of ψ's own Adam optimiser.</summary>
    double ParameterLearningRate { get; }
}
