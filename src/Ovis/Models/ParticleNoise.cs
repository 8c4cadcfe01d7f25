using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>
/// The random numbers of P particles of B data points, drawn particle-major: the generator fills a [P, B, W] tensor,
/// which is returned as a [B, P, W] view. The numbers of particles [c, c + C) are then one contiguous stretch of the
/// generator's stream, and a C-particle draw started where particle c's numbers begin reproduces them exactly (the CPU
/// generator fills uniform tensors serially). A model that draws its particles from here can be evaluated in particle
/// chunks that reproduce its unchunked draws bit for bit (<see cref="LatentVariableModel.SupportsParticleChunks"/>).
/// The draws are returned laid out [B, P, W] in memory (one copy), so what the model computes from them stays in the
/// layout its matrix products are fast on.
/// </summary>
public static class ParticleNoise
{
    /// <summary>u ~ U[0, 1), [B, P, W], drawn particle-major.</summary>
    public static Tensor Uniform(long batch, int particles, long width, ScalarType dtype, Device device, Generator? generator)
    {
        using var drawn = rand(new long[] { particles, batch, width }, dtype: dtype, device: device, generator: generator);   // [P, B, W]
        return drawn.permute(1, 0, 2).contiguous();                                                                       // [B, P, W]
    }

    /// <summary>
    /// ε ~ N(0, I), [B, P, W], by the Box–Muller transform of two uniform draws per number
    /// (ε = √(−2 ln(1 − u₁))·cos 2πu₂), so that it inherits <see cref="Uniform"/>'s chunk-exact stream; a float32 draw
    /// reaches 5.8 standard deviations.
    /// </summary>
    public static Tensor Normal(long batch, int particles, long width, ScalarType dtype, Device device, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var uniform = Uniform(batch, particles, 2 * width, dtype, device, generator);               // [B, P, 2W]
        var radius = uniform.narrow(-1, 0, width).neg().log1p_().mul_(-2).sqrt_();                // √(−2 ln(1 − u₁))
        var angle = uniform.narrow(-1, width, width).mul(2 * Math.PI).cos_();                      // cos 2πu₂
        return radius.mul_(angle).MoveToOuterDisposeScope();                                        // [B, P, W]
    }
}
