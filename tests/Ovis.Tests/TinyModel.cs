using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Tests;

/// <summary>Shortcuts to the embedded tiny model and vector norms for the oracle tests.</summary>
internal static class TinyModel
{
    public static SigmoidBeliefNetwork Create(ulong seed = 7, int[]? layers = null, int observed = 3) => TinyDiscreteModel.Create(seed, layers, observed);

    public static Tensor Data() => TinyDiscreteModel.Data();

    public static double Norm(double[] v) => Math.Sqrt(v.Sum(x => x * x));

    public static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());
}
