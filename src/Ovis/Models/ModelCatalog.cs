using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>A model built by name, with a synthetic data source of the right shape for benchmarks and smoke runs.</summary>
/// <param name="Model">the model.</param>
/// <param name="SampleBatch">draws a batch of B data points from a generator.</param>
public sealed record CatalogModel(LatentVariableModel Model, Func<int, Generator, Tensor> SampleBatch);

/// <summary>
/// The models Ovis knows by name (<c>--model</c>): <c>sbn</c> (the paper's 3×200 linear sigmoid belief network on
/// 784 pixels), <c>sbn1</c> (one layer of 200, the efficiency study), <c>vae</c> (the paper's Gaussian VAE), <c>gmm</c> (the mixture of Fig. 2), <c>gaussian-toy</c> (D = 20) and
/// <c>tiny</c> (the oracle's enumerable network). Other parts register further names.
/// </summary>
public static class ModelCatalog
{
    private static readonly Dictionary<string, Func<ScalarType, Device, CatalogModel>> factories = new(StringComparer.Ordinal)
    {
        ["sbn"] = (dtype, device) => Binary(new SigmoidBeliefNetwork(784, new[] { 200, 200, 200 }, dtype: dtype), 784, dtype, device),
        ["sbn1"] = (dtype, device) => Binary(new SigmoidBeliefNetwork(784, new[] { 200 }, dtype: dtype), 784, dtype, device),
        ["vae"] = (dtype, device) => Binary(GaussianVae.Paper(dtype), 784, dtype, device),
        ["gmm"] = (dtype, device) =>
        {
            var model = new GaussianMixtureModel(dtype: dtype);
            model.to(device);
            return new CatalogModel(model, (batch, generator) => model.SampleData(batch, generator).to(device));
        },
        ["tiny"] = (dtype, device) => Binary(TinyDiscreteModel.Create(), 3, float64, device),
        ["gaussian-toy"] = (dtype, device) =>
        {
            var model = new GaussianToyModel(20, dtype: dtype);
            var (data, _) = GaussianToyModel.GenerateData(20, 1024, 42, dtype);
            model.SetOptimum(data);
            model.to(device);
            var onDevice = data.to(device);
            return new CatalogModel(model, (batch, generator) => onDevice[randint(0, onDevice.shape[0], new long[] { batch }, generator: generator).to(device)]);
        },
    };

    /// <summary>The registered names.</summary>
    public static IReadOnlyCollection<string> Names => factories.Keys;

    /// <summary>Register a model name (used by the parts that add models).</summary>
    public static void Register(string name, Func<ScalarType, Device, CatalogModel> factory) => factories[name] = factory;

    /// <summary>Build a model by name; an unknown name gives an error listing the known ones.</summary>
    public static CatalogModel Create(string name, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (!factories.TryGetValue(name, out var factory))
            throw new ArgumentException($"unknown model '{name}'; known models: {string.Join(", ", factories.Keys.Order())}");
        return factory(dtype, device ?? CPU);
    }

    private static CatalogModel Binary(LatentVariableModel model, int size, ScalarType dtype, Device device)
    {
        model.to(device);
        return new CatalogModel(model, (batch, generator) =>
            bernoulli(full(new long[] { batch, size }, 0.3, dtype: dtype), generator: generator).to(device));
    }
}
