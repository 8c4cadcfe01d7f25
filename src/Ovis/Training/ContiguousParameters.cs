using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// Moves a group of parameters into one contiguous buffer: afterwards each parameter's values are a view of one flat
/// value tensor (<see cref="Flat"/>) and its gradient a view of one flat gradient tensor, so an optimiser updates the
/// whole group with a handful of operations on one tensor instead of a handful per parameter (docs/performance.md). Backward
/// passes accumulate into an existing gradient in place (as PyTorch does when a gradient is already defined), so the
/// gradient views fill the flat gradient; clear it with <see cref="ZeroGradients"/>, never by setting gradients to
/// null. The parameters keep their identity, names and values, so modules, state dictionaries and checkpoints of the
/// model see no difference.
/// </summary>
public sealed class ContiguousParameters
{
    private readonly Tensor gradients;

    /// <summary>Re-home <paramref name="parameters"/> (same dtype and device) into one buffer, keeping their values.</summary>
    public ContiguousParameters(IReadOnlyList<Parameter> parameters)
    {
        if (parameters.Count == 0) throw new ArgumentException("there are no parameters to pack");
        var first = parameters[0];
        if (parameters.Any(p => p.dtype != first.dtype || p.device.type != first.device.type || p.device.index != first.device.index))
            throw new ArgumentException("the parameters of one contiguous group must share their dtype and device");
        if (parameters.Distinct().Count() != parameters.Count) throw new ArgumentException("a parameter appears twice in the group");
        Parameters = parameters.ToArray();
        long total = parameters.Sum(p => p.numel());
        using (no_grad())
        {
            Flat = new Parameter(empty(total, dtype: first.dtype, device: first.device), requires_grad: true);
            gradients = zeros(total, dtype: first.dtype, device: first.device);
            var values = Flat.detach();
            long offset = 0;
            foreach (var parameter in parameters)
            {
                long count = parameter.numel();
                var slice = values.narrow(0, offset, count).view(parameter.shape);
                slice.copy_(parameter);
                parameter.set_(slice);                                                        // the parameter now lives in Flat
                parameter.grad = gradients.narrow(0, offset, count).view(parameter.shape);    // and accumulates into the flat gradient
                offset += count;
            }
        }
        Flat.grad = gradients;
    }

    /// <summary>The packed parameters, in packing order.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>All values as one flat parameter whose gradient is the flat gradient; give this to the optimiser.</summary>
    public Parameter Flat { get; }

    /// <summary>Set every gradient of the group to zero, in place.</summary>
    public void ZeroGradients()
    {
        using (no_grad()) gradients.zero_();
    }
}
