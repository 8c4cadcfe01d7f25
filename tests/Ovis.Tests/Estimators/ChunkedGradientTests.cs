using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Estimators;

/// <summary>
/// A step with the particles in chunks (K = 7 in chunks of 3, so the last chunk is short) against the unchunked step
/// on the same generator: the same particles, loss and diagnostics, the generator left in the same state, and the same
/// gradient to float64 rounding — for every estimator that supports chunks, on the SBN, the GMM and the Gaussian VAE.
/// </summary>
[Collection("Torch")]
public class ChunkedGradientTests
{
    private const int K = 7, Chunk = 3;

    private static LatentVariableModel Model(string name) => name switch
    {
        "sbn" => TinyModel.Create(seed: 3, layers: new[] { 3, 4 }, observed: 6),
        "gmm" => new GaussianMixtureModel(clusters: 5, hidden: 4, dtype: float64, generator: new Generator(4)),
        _ => new GaussianVae(6, 2, 5, dtype: float64),
    };

    private static Tensor Data(string name)
    {
        using var generator = new Generator(9);
        return name == "gmm" ? randn(new long[] { 4, 1 }, dtype: float64, generator: generator) * 10
                             : bernoulli(full(new long[] { 4, 6 }, 0.4, dtype: float64), generator: generator);
    }

    /// <summary>One step's loss, diagnostics, gradients (the model's, then the estimator's own) and the generator's end state.</summary>
    private static (double Loss, Dictionary<string, double[]> Diagnostics, double[] Gradient, byte[] End) Step(
        LatentVariableModel model, GradientEstimator estimator, Tensor x, int chunk, int outer)
    {
        manual_seed(11);
        var own = estimator is IEstimatorWithParameters owner ? owner.InitializeParameters(x, new Generator(5)) : Array.Empty<TorchSharp.Modules.Parameter>();
        var parameters = model.AllParameters().Concat(own).ToArray();
        foreach (var p in parameters) p.grad = null;
        using var generator = new Generator(21);
        var result = ChunkedGradient.Backward(estimator, new EstimatorContext(new EstimatorSettings(K, outer), model, x, generator), chunk);
        var gradient = parameters.SelectMany(p => p.grad is null ? new double[p.numel()] : p.grad.to(float64).reshape(-1).data<double>().ToArray()).ToArray();
        var diagnostics = result.Diagnostics.ToDictionary(d => d.Key, d => d.Value.to(float64).data<double>().ToArray());
        return (result.Loss.ToDouble(), diagnostics, gradient, generator.get_state().data<byte>().ToArray());
    }

    public static TheoryData<string, string, int> Cases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var id in new[] { "reinforce", "vimco-arithmetic", "vimco-geometric", "ovis-gamma0", "ovis-gamma1", "ovis-gamma0.5-geometric",
                                   "ovis-S2-exclusive", "ovis-S3", "ovis-S0.5K", "wake-wake", "wake-sleep", "tvo-part3-beta2", "reinforce-baseline" })
            data.Add("sbn", id, 1);
        foreach (var id in new[] { "ovis-gamma1", "vimco-arithmetic", "ovis-S2-exclusive", "wake-wake" }) data.Add("gmm", id, 1);
        foreach (var id in new[] { "pathwise", "pathwise-iwae", "pathwise-vae", "stl", "ovis-gamma1", "tvo" }) data.Add("vae", id, 1);
        data.Add("sbn", "ovis-gamma1", 2);
        data.Add("vae", "pathwise", 2);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheChunkedStepEqualsTheUnchunkedOne(string modelName, string estimatorId, int outer)
    {
        using var scope = NewDisposeScope();
        var model = Model(modelName);
        var x = Data(modelName);
        var whole = Step(model, EstimatorRegistry.Create(estimatorId), x, 0, outer);
        var chunked = Step(model, EstimatorRegistry.Create(estimatorId), x, Chunk, outer);
        Assert.Equal(whole.End, chunked.End);                                   // the same draws, in the same order
        Assert.Equal(whole.Loss, chunked.Loss, 12);
        Assert.Equal(whole.Diagnostics.Keys.Order(), chunked.Diagnostics.Keys.Order());
        foreach (var (key, values) in whole.Diagnostics)
            for (int i = 0; i < values.Length; i++) Assert.Equal(values[i], chunked.Diagnostics[key][i], 10);
        double scale = Math.Max(1e-300, TinyModel.Norm(whole.Gradient));
        Assert.True(TinyModel.Norm(whole.Gradient) > 0, "the gradient is zero: the comparison would prove nothing");
        Assert.True(TinyModel.Distance(whole.Gradient, chunked.Gradient) / scale < 1e-12,
            $"{estimatorId} on {modelName}: relative gradient difference {TinyModel.Distance(whole.Gradient, chunked.Gradient) / scale:E2}");
    }

    [Fact]
    public void DregAndUnchunkableModelsAreRefusedWithAWayOut()
    {
        var vae = Model("vae");
        var context = new EstimatorContext(new EstimatorSettings(K), vae, Data("vae"), new Generator(1));
        var error = Assert.Throws<NotSupportedException>(() => ChunkedGradient.Backward(EstimatorRegistry.Create("dreg"), context, Chunk));
        Assert.Contains("cannot be computed in particle chunks", error.Message);
        Assert.Contains("pathwise-iwae", error.Message);
        var toy = new GaussianToyModel(3, dtype: float64, generator: new Generator(2));
        var toyContext = new EstimatorContext(new EstimatorSettings(K), toy, randn(new long[] { 2, 3 }, dtype: float64), new Generator(1));
        Assert.Contains("does not draw its particles particle-major", Assert.Throws<NotSupportedException>(
            () => ChunkedGradient.Backward(EstimatorRegistry.Create("ovis-gamma1"), toyContext, Chunk)).Message);
    }
}
