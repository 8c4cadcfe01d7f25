using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests;

/// <summary>The tiny enumerable model the oracle tests use: a two-layer sigmoid belief network in float64.</summary>
internal static class TinyModel
{
    /// <summary>A network with layers [1, 2] over 3 observed bits (8 latent configurations), random parameters.</summary>
    public static SigmoidBeliefNetwork Create(ulong seed = 7, int[]? layers = null, int observed = 3)
    {
        var model = new SigmoidBeliefNetwork(observed, layers ?? new[] { 1, 2 }, dtype: ScalarType.Float64);
        var generator = new Generator(seed);
        using (no_grad())
            foreach (var p in model.parameters()) p.copy_(randn(p.shape, dtype: float64, generator: generator) * 0.8);
        return model;
    }

    /// <summary>Two fixed binary data points, [2, 3].</summary>
    public static Tensor Data() => tensor(new double[,] { { 1, 0, 1 }, { 0, 0, 1 } }, dtype: float64);

    /// <summary>Euclidean norm.</summary>
    public static double Norm(double[] v) => Math.Sqrt(v.Sum(x => x * x));

    /// <summary>‖a − b‖.</summary>
    public static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());
}
