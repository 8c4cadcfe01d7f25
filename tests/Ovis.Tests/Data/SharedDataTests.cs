using Ovis.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Data;

/// <summary>
/// The real MNIST and Fashion-MNIST files of ../shared/data beside the checkout (always present in CI): shapes,
/// digests, splits and the known MNIST test class counts (docs/platform.md §9.2).
/// </summary>
[Collection("Torch")]
public class SharedDataTests
{
    /// <summary>&lt;repo root&gt;/../shared/data, the repo root being the folder holding Ovis.slnx above the test binaries.</summary>
    internal static string SharedDataDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Ovis.slnx"))) directory = directory.Parent;
        Assert.True(directory is not null, $"no Ovis.slnx above {AppContext.BaseDirectory}: cannot locate the repository root");
        var data = Path.GetFullPath(Path.Combine(directory!.FullName, "..", "shared", "data"));
        Assert.True(Directory.Exists(Path.Combine(data, "mnist")),
            $"the shared data folder {data} (with mnist/ and fashion-mnist/) must sit beside the checkout at ../shared/data");
        return data;
    }

    [Fact]
    public void MnistTrainImagesAre60000By28By28()
    {
        var path = Path.Combine(SharedDataDirectory(), "mnist", "train-images-idx3-ubyte.gz");
        var images = IdxReader.ReadImages(path);
        Assert.Equal(new[] { 60000, 28, 28 }, images.Dimensions);
        Assert.Equal(60000 * 784, images.Data.Length);
        Assert.Equal(DatasetRegistry.Mnist.File("train-images").Sha256, DataFilePayload.Sha256(IdxReader.Idx(images)));
    }

    [Fact]
    public void MnistLoadsWithThePaperSplitsAndKnownTestClassCounts()
    {
        using var scope = NewDisposeScope();
        var data = DatasetLoader.Load("mnist", new DataLocator(SharedDataDirectory(), _ => null));
        Assert.Equal((50000, 10000, 10000), (data.Train.Count, data.Validation.Count, data.Test.Count));
        Assert.Equal(new long[] { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 }, data.Test.ClassCounts());
        Assert.Equal(784, data.Train.PixelCount);
        Assert.Equal(BinarizationMode.Dynamic, data.Binarization);
        var mean = data.TrainingPixelMean(new Generator(1));
        Assert.Equal(784, mean.shape[0]);
        // The mean grey level of MNIST is 0.1307 (standard normalisation constant); one binarisation is close to it.
        Assert.InRange(mean.mean().ToDouble(), 0.125, 0.136);
    }

    [Fact]
    public void FashionMnistIsThresholdedWithValidationEqualToTest()
    {
        using var scope = NewDisposeScope();
        var data = DatasetLoader.Load("fashion-mnist", new DataLocator(SharedDataDirectory(), _ => null));
        Assert.Equal((60000, 10000), (data.Train.Count, data.Test.Count));
        Assert.Same(data.Test, data.Validation);
        Assert.True(data.Train.IsBinary);
        Assert.Equal(Enumerable.Repeat(1000L, 10), data.Test.ClassCounts());
    }
}
