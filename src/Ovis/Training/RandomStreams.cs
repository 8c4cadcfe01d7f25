using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// The random streams of a run, each a generator seeded with the run's seed plus a fixed offset, so that every part
/// (model initialisation, data order, held-out points, evaluation particles, gradient probes) draws numbers of its
/// own and adding draws to one part never shifts another. libtorch's CPU generator (a Mersenne Twister) keeps 32 bits
/// of its seed, so the offsets differ in their low 32 bits and seeds are refused at or above 2³² (<see cref="CheckSeed"/>).
/// </summary>
public static class RandomStreams
{
    /// <summary>Offset of the model's initialisation.</summary>
    public const ulong ModelInitialization = 0x6A09E667F3BCC909;
    /// <summary>Offset of the fixed held-out evaluation points.</summary>
    public const ulong HeldOut = 0x9E3779B97F4A7C15;
    /// <summary>Offset of the fixed training subset.</summary>
    public const ulong TrainingSubset = 0x2545F4914F6CDD1D;
    /// <summary>Offset of the final evaluation's points (+1: its particles; +2, +3: the image figures).</summary>
    public const ulong Final = 0x5851F42D4C957F2D;
    /// <summary>Offset of the periodic evaluations' particles (+1: the training subset's).</summary>
    public const ulong Evaluation = 0xBF58476D1CE4E5B9;
    /// <summary>Offset of the gradient probe's points (+1: its particles).</summary>
    public const ulong Gradient = 0x94D049BB133111EB;
    /// <summary>Offset of the image data order.</summary>
    public const ulong DataOrder = 0xD1B54A32D192ED03;
    /// <summary>Offset of the training mean's binarisation.</summary>
    public const ulong DataMean = 0x8CB92BA72F3D8DD7;
    /// <summary>Offset of an estimator's own parameters' initialisation.</summary>
    public const ulong EstimatorInitialization = 0x3C6EF372FE94F82B;

    /// <summary>The largest seed the generator distinguishes: 2³² − 1.</summary>
    public const ulong MaximumSeed = uint.MaxValue;

    /// <summary>A new generator for the stream <paramref name="offset"/> of the run seeded <paramref name="seed"/>.</summary>
    public static Generator Create(ulong seed, ulong offset) => new(unchecked(seed + offset));

    /// <summary>Refuse a seed the generator would silently truncate.</summary>
    public static void CheckSeed(ulong seed)
    {
        if (seed > MaximumSeed)
            throw new ArgumentException($"--seed {seed} is too large: libtorch's CPU generator keeps only 32 bits of its seed, so seeds above {MaximumSeed} would silently repeat smaller ones; use a seed in [0, {MaximumSeed}]");
    }
}
