using TorchSharp;
using TorchSharp.Modules;

namespace Ovis.Training;

/// <summary>
/// An estimator that owns trainable parameters of its own (e.g. a neural baseline, estimators.md §4.1). The trainer
/// gives them a separate Adam optimiser named <c>estimator</c>.
/// </summary>
public interface IEstimatorWithParameters
{
    /// <summary>The estimator's own parameters.</summary>
    IReadOnlyList<Parameter> EstimatorParameters();
}

/// <summary>
/// Named Adam optimisers over disjoint parameter groups (experiments.md §1.3: Adam with PyTorch's defaults
/// β1 = 0.9, β2 = 0.999, ε = 1e−8, no weight decay). The model's θ and φ share the optimiser <c>model</c>; further
/// groups (an estimator's own parameters) get their own. The order of the groups is the checkpoint order.
/// </summary>
public sealed class OptimizerSet : IDisposable
{
    private readonly List<(string name, OptimizerHelper optimizer, ContiguousParameters parameters)> groups = new();

    /// <summary>
    /// Add a named group with its own Adam optimiser. The group's parameters are packed into one buffer
    /// (<see cref="ContiguousParameters"/>), so Adam updates them with one set of operations.
    /// </summary>
    public void Add(string name, IReadOnlyList<Parameter> parameters, double learningRate)
    {
        if (groups.Any(g => g.name == name)) throw new ArgumentException($"optimiser group '{name}' exists already");
        if (parameters.Count == 0) return;
        var packed = new ContiguousParameters(parameters);
        groups.Add((name, torch.optim.Adam(new[] { packed.Flat }, lr: learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8), packed));
    }

    /// <summary>The optimisers with their names, in checkpoint order.</summary>
    public IReadOnlyList<(string name, OptimizerHelper optimizer)> Optimizers => groups.Select(g => (g.name, g.optimizer)).ToArray();

    /// <summary>Set the learning rate of every group (the learning-rate schedule).</summary>
    public void SetLearningRate(double learningRate)
    {
        foreach (var (_, optimizer, _) in groups)
            foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
    }

    /// <summary>Zero every gradient in place (the packed gradients must stay views of their flat buffer).</summary>
    public void ZeroGradients()
    {
        foreach (var (_, _, parameters) in groups) parameters.ZeroGradients();
    }

    /// <summary>One Adam step of every group.</summary>
    public void Step()
    {
        foreach (var (_, optimizer, _) in groups) optimizer.step();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, optimizer, _) in groups) optimizer.Dispose();
    }
}
