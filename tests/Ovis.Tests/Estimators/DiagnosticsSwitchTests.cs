using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Estimators;

/// <summary><see cref="EstimatorContext.Diagnostics"/> off skips the diagnostics and nothing else.</summary>
[Collection("Torch")]
public class DiagnosticsSwitchTests
{
    [Theory]
    [InlineData("ovis-gamma1")]
    [InlineData("vimco-arithmetic")]
    [InlineData("reinforce-baseline")]
    [InlineData("tvo-part5-beta2")]
    [InlineData("wake-wake")]
    [InlineData("pathwise-iwae")]
    [InlineData("dreg")]
    public void DiagnosticsOffGivesTheSameLossAndGradientAndNoDiagnostics(string id)
    {
        using var scope = NewDisposeScope();
        var model = new GaussianToyModel(4, dtype: float64, generator: new Generator(3));
        var (data, _) = GaussianToyModel.GenerateData(4, 8, dtype: float64);
        var estimator = EstimatorRegistry.Create(id);
        (double loss, Tensor gradient, int diagnostics) Run(bool diagnostics)
        {
            model.zero_grad();
            var result = estimator.Compute(new EstimatorContext(new EstimatorSettings(5), model, data, new Generator(11), diagnostics));
            result.Loss.backward();
            var gradient = cat(model.parameters().Select(p => p.grad!.reshape(-1)).ToArray()).clone();
            return (result.Loss.ToDouble(), gradient, result.Diagnostics.Count);
        }
        var on = Run(true);
        var off = Run(false);
        Assert.Equal(on.loss, off.loss);
        Assert.True(on.gradient.equal(off.gradient).all().item<bool>());
        Assert.True(on.diagnostics > 0);
        Assert.Equal(0, off.diagnostics);
    }
}
