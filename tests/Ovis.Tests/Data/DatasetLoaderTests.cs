using Ovis.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Data;

[Collection("Torch")]
public class DatasetLoaderTests
{
    private static (DatasetSpec spec, TempDirectory dir) Fixture(ValidationSplit validation, int validationCount, bool gzip = true)
    {
        var trainImages = DataFixtures.Images(12, 2, 3, seed: 1);
        var trainLabels = DataFixtures.Labels(12);
        var testImages = DataFixtures.Images(4, 2, 3, seed: 2);
        var testLabels = DataFixtures.Labels(4);
        var spec = DataFixtures.Spec("toy", trainImages, trainLabels, testImages, testLabels, validation, validationCount, 12, 4);
        var dir = new TempDirectory();
        string ext = gzip ? ".gz" : "";
        byte[] Enc(byte[] b) => gzip ? DataFixtures.Gzip(b) : b;
        dir.Write("toy/train-images-idx3-ubyte" + ext, Enc(trainImages));
        dir.Write("toy/train-labels-idx1-ubyte" + ext, Enc(trainLabels));
        dir.Write("toy/t10k-images-idx3-ubyte" + ext, Enc(testImages));
        dir.Write("toy/t10k-labels-idx1-ubyte" + ext, Enc(testLabels));
        return (spec, dir);
    }

    [Fact]
    public void ValidationIsTheLastImagesOfTrainOrTheTestSplit()
    {
        using var scope = NewDisposeScope();
        var (spec, dir) = Fixture(ValidationSplit.LastOfTrain, 5);
        using (dir)
        {
            var located = new DataLocator(dir.Path, _ => null).Locate(spec);
            var data = DatasetLoader.Load(located);
            Assert.Equal(7, data.Train.Count);
            Assert.Equal(5, data.Validation.Count);
            Assert.Equal(4, data.Test.Count);
            Assert.False(data.ValidationIsTest);
            var full = IdxReader.ReadImages(located.Files["train-images"]).Data;
            Assert.Equal(full[..(7 * 6)], data.Train.Pixels.data<byte>().ToArray());
            Assert.Equal(full[(7 * 6)..], data.Validation.Pixels.data<byte>().ToArray());
            Assert.Equal(new long[] { 3, 2, 2 }, data.Train.ClassCounts());       // labels 0,1,2,0,1,2,0
            Assert.Equal(new[] { 2, 3 }, data.Train.ImageShape);
        }
        var (spec2, dir2) = Fixture(ValidationSplit.Test, 0, gzip: false);
        using (dir2)
        {
            var data = DatasetLoader.Load(new DataLocator(dir2.Path, _ => null).Locate(spec2));
            Assert.Equal(12, data.Train.Count);
            Assert.Same(data.Test, data.Validation);
            Assert.True(data.ValidationIsTest);
        }
    }

    [Fact]
    public void ChecksumFailureOnLoadNamesTheFile()
    {
        var (spec, dir) = Fixture(ValidationSplit.Test, 0);
        using (dir)
        {
            // A well-formed file with different content (e.g. Fashion-MNIST where MNIST was expected).
            var path = dir.Write("toy/t10k-images-idx3-ubyte.gz", DataFixtures.Gzip(DataFixtures.Images(4, 2, 3, seed: 99)));
            var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(new DataLocator(dir.Path, _ => null).Locate(spec)));
            Assert.Contains(path, e.Message);
            Assert.Contains("SHA-256", e.Message);
            Assert.Contains(spec.File("test-images").Sha256!, e.Message);
        }
    }

    [Fact]
    public void WrongExampleCountIsReported()
    {
        var (spec, dir) = Fixture(ValidationSplit.Test, 0);
        using (dir)
        {
            var strict = spec with { Files = spec.Files.Select(f => f.Role == "test-images" ? f with { Count = 10000 } : f).ToArray() };
            var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(new DataLocator(dir.Path, _ => null).Locate(strict)));
            Assert.Contains("holds 4 images", e.Message);
            Assert.Contains("must hold 10000", e.Message);
        }
    }

    [Fact]
    public void StaticBinarisationIsOneFixedDrawPerSeedAndThresholdIsAt128()
    {
        using var scope = NewDisposeScope();
        var (spec, dir) = Fixture(ValidationSplit.Test, 0);
        using (dir)
        {
            var located = new DataLocator(dir.Path, _ => null).Locate(spec);
            var a = DatasetLoader.Load(located, new DatasetLoadOptions(BinarizationMode.Static, StaticSeed: 5));
            var b = DatasetLoader.Load(located, new DatasetLoadOptions(BinarizationMode.Static, StaticSeed: 5));
            var c = DatasetLoader.Load(located, new DatasetLoadOptions(BinarizationMode.Static, StaticSeed: 6));
            Assert.True(a.Train.IsBinary);
            Assert.Equal(BinarizationMode.None, a.Binarization);
            Assert.Equal(a.Train.Pixels.data<byte>().ToArray(), b.Train.Pixels.data<byte>().ToArray());
            Assert.NotEqual(a.Train.Pixels.data<byte>().ToArray(), c.Train.Pixels.data<byte>().ToArray());
            Assert.All(a.Train.Pixels.data<byte>().ToArray(), v => Assert.True(v <= 1));
            var grey = DatasetLoader.Load(located).Train.Pixels.data<byte>().ToArray();
            var thresholded = DatasetLoader.Load(located, new DatasetLoadOptions(BinarizationMode.Threshold)).Train.Pixels.data<byte>().ToArray();
            Assert.Equal(grey.Select(v => (byte)(v >= 128 ? 1 : 0)).ToArray(), thresholded);
            // A pixel of 0 is never on and a pixel of 255 is always on under Bernoulli(pixel/255).
            var drawn = a.Train.Pixels.data<byte>().ToArray();
            for (int i = 0; i < grey.Length; i++)
            {
                if (grey[i] == 0) Assert.Equal(0, drawn[i]);
                if (grey[i] == 255) Assert.Equal(1, drawn[i]);
            }
        }
    }

    [Fact]
    public void DynamicBinarisationHasTheRightMeanAndDiffersBetweenDraws()
    {
        using var scope = NewDisposeScope();
        var pixels = full(new long[] { 200, 500 }, 51, dtype: ScalarType.Byte);    // p = 0.2
        var generator = new Generator(11);
        var first = Binarization.Sample(pixels, generator);
        var second = Binarization.Sample(pixels, generator);
        double mean = first.mean().ToDouble();
        double standardError = Math.Sqrt(0.2 * 0.8 / 100000);
        Assert.InRange(mean, 0.2 - 5 * standardError, 0.2 + 5 * standardError);
        Assert.False(first.allclose(second));
        Assert.False(first.requires_grad);
    }

    [Fact]
    public void AmatDataSetLoadsItsThreeFiles()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var spec = DatasetRegistry.BinarizedMnist with
        {
            Files = DatasetRegistry.BinarizedMnist.Files.Select(f => f with { Count = f.Role == "train" ? 3 : 2 }).ToArray(),
        };
        dir.Write("binarized-mnist/binarized_mnist_train.amat", System.Text.Encoding.ASCII.GetBytes(DataFixtures.Amat(3, 784, 1)));
        dir.Write("binarized-mnist/binarized_mnist_valid.amat.gz", DataFixtures.Gzip(System.Text.Encoding.ASCII.GetBytes(DataFixtures.Amat(2, 784, 2))));
        dir.Write("binarized-mnist/binarized_mnist_test.amat", System.Text.Encoding.ASCII.GetBytes(DataFixtures.Amat(2, 784, 3)));
        var data = DatasetLoader.Load(new DataLocator(dir.Path, _ => null).Locate(spec));
        Assert.Equal(new[] { 3, 2, 2 }, new[] { data.Train.Count, data.Validation.Count, data.Test.Count });
        Assert.True(data.Train.IsBinary);
        Assert.Equal(BinarizationMode.None, data.Binarization);
        // Only 3 of the expected 50,000 examples with the real counts.
        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(new DataLocator(dir.Path, _ => null).Locate(DatasetRegistry.BinarizedMnist)));
        Assert.Contains("binarized_mnist_train.amat' has 3 examples, expected 50000", e.Message);
    }

    [Fact]
    public void BinarizedMnistCannotBeDownloadedAndSaysHowToSupplyIt()
    {
        Assert.False(DatasetRegistry.BinarizedMnist.Downloadable);
        using var dir = new TempDirectory();
        var e = Assert.Throws<NotSupportedException>(() => new DatasetDownloader().Fetch(DatasetRegistry.BinarizedMnist, dir.Path));
        Assert.Contains("binarized_mnist_{train,valid,test}.amat", e.Message);
        Assert.Contains("<data-dir>/binarized-mnist/", e.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => new DataLocator(dir.Path, _ => null).Locate(DatasetRegistry.BinarizedMnist));
        Assert.Contains("not available offline", missing.Message);
        Assert.Contains(Path.Combine(dir.Path, "binarized-mnist"), missing.Message);
        Assert.Throws<ArgumentException>(() => DatasetRegistry.Get("omniglot"));
        Assert.Same(DatasetRegistry.FashionMnist, DatasetRegistry.Get("Fashion-MNIST"));
    }
}

public class DataLocatorTests
{
    [Fact]
    public void SearchOrderIsDataDirThenEnvironmentThenUserCacheThenSystem()
    {
        using var root = new TempDirectory();
        var spec = DataFixtures.Spec("toy", new byte[1], new byte[1], new byte[1], new byte[1], ValidationSplit.Test, 0, 1, 1)
                   with { SystemFolders = new[] { Path.Combine(root.Path, "system") } };
        void Populate(string folder)
        {
            foreach (var f in spec.Files) root.Write(Path.Combine(folder, f.FileName + ".gz"), new byte[] { 1 });
        }
        var env = new Dictionary<string, string?> { ["OVIS_DATA_DIR"] = Path.Combine(root.Path, "env"), ["XDG_CACHE_HOME"] = Path.Combine(root.Path, "xdg"), ["HOME"] = Path.Combine(root.Path, "home") };
        var locator = new DataLocator(Path.Combine(root.Path, "explicit"), k => env.GetValueOrDefault(k));
        Assert.Equal(Path.Combine(root.Path, "xdg", "ovis"), locator.UserCacheDirectory);
        Assert.Null(locator.TryLocate(spec));
        Populate("system");
        Assert.Equal("system", locator.TryLocate(spec)!.Origin);
        Populate("xdg/ovis/toy");
        Assert.Equal("user cache", locator.TryLocate(spec)!.Origin);
        Populate("env");                                   // flat layout: the folder holds the files directly
        Assert.Equal(("OVIS_DATA_DIR", Path.Combine(root.Path, "env")), (locator.TryLocate(spec)!.Origin, locator.TryLocate(spec)!.Directory));
        Populate("explicit/toy");
        var found = locator.TryLocate(spec)!;
        Assert.Equal("--data-dir", found.Origin);
        Assert.Equal(Path.Combine(root.Path, "explicit", "toy", "train-images-idx3-ubyte.gz"), found.Files["train-images"]);
        Assert.Equal(Path.Combine(root.Path, "explicit", "toy"), locator.DownloadDirectory(spec));
        // Without XDG_CACHE_HOME the cache is ~/.cache/ovis; without --data-dir and OVIS_DATA_DIR downloads go there.
        var plain = new DataLocator(null, k => k == "HOME" ? "/home/someone" : null);
        Assert.Equal("/home/someone/.cache/ovis", plain.UserCacheDirectory);
        Assert.Equal("/home/someone/.cache/ovis/toy", plain.DownloadDirectory(spec));
    }

    [Fact]
    public void AFolderCountsOnlyWithEveryFile()
    {
        using var root = new TempDirectory();
        var spec = DataFixtures.Spec("toy", new byte[1], new byte[1], new byte[1], new byte[1], ValidationSplit.Test, 0, 1, 1);
        root.Write("toy/train-images-idx3-ubyte.gz", new byte[] { 1 });
        root.Write("toy/train-labels-idx1-ubyte", new byte[] { 1 });
        var locator = new DataLocator(root.Path, _ => "/nonexistent-home");
        Assert.Null(locator.TryLocate(spec));
        root.Write("toy/t10k-images-idx3-ubyte.gz", new byte[] { 1 });
        root.Write("toy/t10k-labels-idx1-ubyte.gz", new byte[] { 1 });
        var found = locator.TryLocate(spec)!;
        Assert.EndsWith("train-labels-idx1-ubyte", found.Files["train-labels"]);   // the uncompressed name is accepted
    }
}
