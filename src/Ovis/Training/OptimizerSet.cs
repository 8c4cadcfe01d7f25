using TorchSharp;
using TorchSharp.Modules;

namespace Ovis.Training;

/// <summary>
/// Named Adam optimisers over disjoint parameter groups (docs/experiments.md §1.3: Adam with PyTorch's defaults
/// β1 = 0.9, β2 = 0.999, ε = 1e−8, no weight decay), each with a base learning rate of its own. The model's θ and φ
/// share the group <c>model</c>; an estimator's own parameters get the group <c>estimator</c>. The order of the
/// groups is the checkpoint order.
/// </summary>
internal sealed class OptimizerSet : IDisposable
{
    private readonly List<(string name, OptimizerHelper optimizer, ContiguousParameters parameters, double baseRate)> groups = new();

    /// <summary>
    /// Add a named group with its own Adam optimiser at <paramref name="learningRate"/>. The group's parameters are
    /// packed into one buffer (<see cref="ContiguousParameters"/>), so Adam updates them with one set of operations.
    /// </summary>
    public void Add(string name, IReadOnlyList<Parameter> parameters, double learningRate)
    {
        if (groups.Any(g => g.name == name)) throw new ArgumentException($"optimiser group '{name}' exists already");
        if (parameters.Count == 0) return;
        var packed = new ContiguousParameters(parameters);
        groups.Add((name, torch.optim.Adam(new[] { packed.Flat }, lr: learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8), packed, learningRate));
    }

    /// <summary>The optimisers with their names, in checkpoint order.</summary>
    public IReadOnlyList<(string name, OptimizerHelper optimizer)> Optimizers => groups.Select(g => (g.name, g.optimizer)).ToArray();

    /// <summary>The packed parameter buffers, by group name (for finiteness checks).</summary>
    public IEnumerable<(string name, Parameter flat)> Buffers => groups.Select(g => (g.name, g.parameters.Flat));

    /// <summary>Set every group's learning rate to its base rate times <paramref name="scale"/> (the learning-rate schedule's factor).</summary>
    public void ScaleLearningRates(double scale)
    {
        foreach (var (_, optimizer, _, baseRate) in groups)
            foreach (var group in optimizer.ParamGroups) group.LearningRate = baseRate * scale;
    }

    /// <summary>Zero every gradient in place (the packed gradients must stay views of their flat buffer).</summary>
    public void ZeroGradients()
    {
        foreach (var group in groups) group.parameters.ZeroGradients();
    }

    /// <summary>One Adam step of every group.</summary>
    public void Step()
    {
        foreach (var group in groups) group.optimizer.step();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var group in groups) group.optimizer.Dispose();
    }
}
