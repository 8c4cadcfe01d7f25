using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// The embedded tiny discrete model of the exact oracle: a float64 sigmoid belief network with stochastic layers
/// [1, 2] (8 joint latent configurations) over 3 observed bits, random parameters from a seed, and two fixed data
/// points. Small enough to enumerate every K-tuple of particles for K ≤ 6.
/// </summary>
public static class TinyDiscreteModel
{
    /// <summary>Create the network; parameters are i.i.d. N(0, 0.8²) from a generator seeded with <paramref name="seed"/>.</summary>
    public static SigmoidBeliefNetwork Create(ulong seed = 7, IReadOnlyList<int>? layers = null, int observed = 3)
    {
        var model = new SigmoidBeliefNetwork(observed, layers ?? new[] { 1, 2 }, dtype: ScalarType.Float64);
        var generator = new Generator(seed);
        using (no_grad())
            foreach (var p in model.parameters()) p.copy_(randn(p.shape, dtype: float64, generator: generator) * 0.8);
        return model;
    }

    /// <summary>The two data points x = (1, 0, 1) and (0, 0, 1), [2, 3] float64.</summary>
    public static Tensor Data() => tensor(new double[,] { { 1, 0, 1 }, { 0, 0, 1 } }, dtype: float64);
}
