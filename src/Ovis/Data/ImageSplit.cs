using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Data;

/// <summary>
/// One split of an image data set held in memory: pixels as unsigned bytes [N, D] (grey levels 0–255, or 0/1
/// when <see cref="IsBinary"/>) and optional class labels [N]. Batches are converted to float only when drawn
/// (<see cref="MiniBatchLoader"/>), so a 60,000-image split costs 47 MB.
/// </summary>
public sealed class ImageSplit
{
    /// <summary>Create a split, checking the shapes.</summary>
    /// <param name="name">e.g. "train", "validation", "test".</param>
    /// <param name="pixels">[N, D] uint8.</param>
    /// <param name="labels">[N] int64 class labels, or null.</param>
    /// <param name="isBinary">true when every pixel is 0 or 1 already (static binarisation or Larochelle's files).</param>
    /// <param name="imageShape">the image shape, e.g. [28, 28].</param>
    public ImageSplit(string name, Tensor pixels, Tensor? labels, bool isBinary, IReadOnlyList<int> imageShape)
    {
        if (pixels.dim() != 2 || pixels.dtype != ScalarType.Byte)
            throw new ArgumentException($"split '{name}': pixels must be a [N, D] uint8 tensor, got {pixels.dtype} [{string.Join(", ", pixels.shape)}]");
        if (labels is not null && (labels.dim() != 1 || labels.shape[0] != pixels.shape[0]))
            throw new ArgumentException($"split '{name}': {labels.shape[0]} labels for {pixels.shape[0]} images");
        if (imageShape.Aggregate(1, (a, b) => a * b) != pixels.shape[1])
            throw new ArgumentException($"split '{name}': image shape [{string.Join(", ", imageShape)}] does not match {pixels.shape[1]} pixels");
        Name = name;
        Pixels = pixels;
        Labels = labels;
        IsBinary = isBinary;
        ImageShape = imageShape.ToArray();
    }

    /// <summary>The split's name.</summary>
    public string Name { get; }

    /// <summary>Pixels, [N, D] uint8.</summary>
    public Tensor Pixels { get; }

    /// <summary>Class labels, [N] int64, or null.</summary>
    public Tensor? Labels { get; }

    /// <summary>True when the pixels are 0/1 rather than grey levels.</summary>
    public bool IsBinary { get; }

    /// <summary>The image shape, e.g. [28, 28].</summary>
    public IReadOnlyList<int> ImageShape { get; }

    /// <summary>Number of images N.</summary>
    public int Count => (int)Pixels.shape[0];

    /// <summary>Pixels per image D.</summary>
    public int PixelCount => (int)Pixels.shape[1];

    /// <summary>Images [start, start + count) as a new split sharing storage.</summary>
    public ImageSplit Slice(string name, int start, int count)
    {
        if (start < 0 || count <= 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"cannot take images [{start}, {start + count}) of split '{Name}' with {Count} images");
        return new ImageSplit(name, Pixels.narrow(0, start, count), Labels?.narrow(0, start, count), IsBinary, ImageShape);
    }

    /// <summary>Number of images per class 0..C−1 (C = max label + 1); empty when there are no labels.</summary>
    public long[] ClassCounts()
    {
        if (Labels is null) return Array.Empty<long>();
        using var scope = NewDisposeScope();
        return Labels.bincount(null).data<long>().ToArray();
    }

    /// <summary>
    /// The split with every pixel binarised once and for all (static binarisation, docs/experiments.md §4):
    /// Bernoulli(pixel/255) drawn from <paramref name="generator"/> (one fixed draw from a seed), as 0/1 bytes.
    /// </summary>
    public ImageSplit BinarizeStatically(Generator generator)
    {
        if (IsBinary) return this;
        using var scope = NewDisposeScope();
        var binary = Binarization.Sample(Pixels, generator).to(ScalarType.Byte).MoveToOuterDisposeScope();
        return new ImageSplit(Name, binary, Labels, isBinary: true, ImageShape);
    }

    /// <summary>The split thresholded once: pixel ≥ <paramref name="threshold"/> → 1 (Fashion-MNIST: 128, i.e. pixel/255 ≥ 0.5).</summary>
    public ImageSplit BinarizeByThreshold(int threshold = Binarization.DefaultThreshold)
    {
        if (IsBinary) return this;
        using var scope = NewDisposeScope();
        var binary = Binarization.Threshold(Pixels, threshold).to(ScalarType.Byte).MoveToOuterDisposeScope();
        return new ImageSplit(Name, binary, Labels, isBinary: true, ImageShape);
    }
}

/// <summary>How the pixels of a split become the binary x ∈ {0, 1}^D the models see (docs/experiments.md §4).</summary>
public enum BinarizationMode
{
    /// <summary>Bernoulli(pixel/255) re-drawn at every access (every epoch, every evaluation batch).</summary>
    Dynamic,
    /// <summary>One fixed Bernoulli(pixel/255) draw from a seed, made at load time.</summary>
    Static,
    /// <summary>pixel ≥ 128 (Fashion-MNIST in the paper).</summary>
    Threshold,
    /// <summary>The files are binary already (Larochelle's binarised MNIST).</summary>
    None,
}

/// <summary>Binarisation of uint8 grey levels (docs/experiments.md §4).</summary>
public static class Binarization
{
    /// <summary>The threshold of the paper's Fashion-MNIST binarisation: pixel/255 ≥ 0.5, i.e. byte ≥ 128.</summary>
    public const int DefaultThreshold = 128;

    /// <summary>x ~ Bernoulli(pixel/255) element-wise, float32 0/1 of the same shape, drawn from <paramref name="generator"/>.</summary>
    public static Tensor Sample(Tensor pixels, Generator? generator)
    {
        using var noGrad = no_grad();
        var probabilities = pixels.to(ScalarType.Float32) / 255f;
        return bernoulli(probabilities, generator: generator);
    }

    /// <summary>x = [pixel ≥ threshold] as float32 0/1.</summary>
    public static Tensor Threshold(Tensor pixels, int threshold = DefaultThreshold)
        => pixels.ge(threshold).to(ScalarType.Float32);
}
