using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// The neural baseline b_ψ(x) of <c>reinforce-baseline</c> (docs/estimators.md §4.1): the input 2x − 1, flattened, then
/// Linear(D_x → H), tanh, Linear(H → 1), squeezed to [B]. The reference puts a BatchNorm1d after the hidden
/// Linear; Ovis leaves it out: in training mode it makes b(x_b) depend on the other points of the batch (and, in
/// the exact oracle, on a batch of identical copies, where it normalises every input to zero), and it behaves
/// differently in evaluation mode. The baseline still depends on x only, which is what keeps the estimator unbiased.
/// </summary>
public sealed class NeuralBaseline : nn.Module<Tensor, Tensor>
{
    private readonly Linear hidden, output;

    /// <summary>Create the network for inputs of <paramref name="inputSize"/> features.</summary>
    public NeuralBaseline(long inputSize, int hiddenUnits, ScalarType dtype) : base("neural_baseline")
    {
        if (inputSize < 1 || hiddenUnits < 1) throw new ArgumentException("the baseline needs a positive input size and hidden width");
        InputSize = inputSize;
        hidden = nn.Linear(inputSize, hiddenUnits, dtype: dtype);
        output = nn.Linear(hiddenUnits, 1, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>
    /// Redraw every weight and bias from U(−1/√fan_in, 1/√fan_in) (PyTorch's default for Linear layers) with
    /// <paramref name="generator"/>, so that the baseline's initialisation follows the run's seed instead of torch's
    /// global generator.
    /// </summary>
    public void Reinitialize(Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var layer in new[] { hidden, output })
        {
            double bound = 1 / Math.Sqrt(layer.weight!.shape[1]);
            foreach (var parameter in new[] { layer.weight!, layer.bias! })
                parameter.copy_((rand(parameter.shape, dtype: parameter.dtype, generator: generator) * 2 - 1) * bound);
        }
    }

    /// <summary>D_x, the flattened input size.</summary>
    public long InputSize { get; }

    /// <summary>b_ψ(x) for x [B, ...]: [B].</summary>
    public override Tensor forward(Tensor x)
    {
        var input = (2 * x.flatten(1) - 1).to(hidden.weight!.dtype);                              // [B, D_x]
        return output.forward(hidden.forward(input).tanh()).squeeze(-1);                       // [B]
    }
}
