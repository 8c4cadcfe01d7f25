using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Data;

/// <summary>A loaded data set: its three splits in the paper's layout (docs/experiments.md §4).</summary>
public sealed class Dataset
{
    /// <summary>Create the record.</summary>
    public Dataset(DatasetSpec spec, ImageSplit train, ImageSplit validation, ImageSplit test, BinarizationMode binarization,
                   IReadOnlyDictionary<string, string> sources)
    {
        Spec = spec;
        Train = train;
        Validation = validation;
        Test = test;
        Binarization = binarization;
        Sources = sources;
    }

    /// <summary>The data set's registry entry.</summary>
    public DatasetSpec Spec { get; }

    /// <summary>The training split.</summary>
    public ImageSplit Train { get; }

    /// <summary>The validation split (the test split itself for Fashion-MNIST, <see cref="ValidationIsTest"/>).</summary>
    public ImageSplit Validation { get; }

    /// <summary>The test split.</summary>
    public ImageSplit Test { get; }

    /// <summary>True when validation and test are the same images.</summary>
    public bool ValidationIsTest => Spec.Validation == ValidationSplit.Test;

    /// <summary>How batches are binarised: <see cref="BinarizationMode.Dynamic"/> for grey levels, else the splits are binary already.</summary>
    public BinarizationMode Binarization { get; }

    /// <summary>The file each role was read from.</summary>
    public IReadOnlyDictionary<string, string> Sources { get; }

    /// <summary>A loader over <paramref name="split"/> that binarises as this data set prescribes.</summary>
    public MiniBatchLoader Loader(ImageSplit split, int batchSize, Generator generator) => new(split, batchSize, Binarization, generator);

    /// <summary>
    /// x̄, the per-pixel mean of the binarised training split, float32 [D] (docs/experiments.md §4.5: the SBN's input
    /// centring and output-bias initialisation). With dynamic binarisation it is the mean of one random
    /// binarisation drawn from <paramref name="generator"/>, as in the reference's one pass over the loader.
    /// </summary>
    public Tensor TrainingPixelMean(Generator? generator = null, int chunk = 5000)
    {
        using var scope = NewDisposeScope();
        var sum = zeros(Train.PixelCount, dtype: ScalarType.Float64);
        for (int start = 0; start < Train.Count; start += chunk)
        {
            using var chunkScope = NewDisposeScope();                                       // bounded memory per chunk
            var pixels = Train.Pixels.narrow(0, start, Math.Min(chunk, Train.Count - start));
            var binary = Binarization == BinarizationMode.Dynamic ? Data.Binarization.Sample(pixels, generator) : pixels.to(ScalarType.Float32);
            sum.add_(binary.sum(dim: 0, type: ScalarType.Float64));
        }
        return (sum / Train.Count).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}

/// <summary>Options for <see cref="DatasetLoader.Load(LocatedDataset, DatasetLoadOptions?)"/>.</summary>
/// <param name="Binarization">null for the data set's default; <see cref="BinarizationMode.Static"/> draws once from <paramref name="StaticSeed"/>.</param>
/// <param name="StaticSeed">seed of the one fixed binarisation draw (train file first, then test file).</param>
/// <param name="VerifyDigests">check every file's SHA-256 against the registry before use.</param>
public sealed record DatasetLoadOptions(BinarizationMode? Binarization = null, ulong StaticSeed = 0, bool VerifyDigests = true);

/// <summary>Reads a located data set's files and forms the paper's splits (docs/experiments.md §4).</summary>
public static class DatasetLoader
{
    /// <summary>Find the data set with <paramref name="locator"/> and load it.</summary>
    public static Dataset Load(string name, DataLocator locator, DatasetLoadOptions? options = null)
        => Load(locator.Locate(DatasetRegistry.Get(name)), options);

    /// <summary>
    /// Find the data set with <paramref name="locator"/>, or — when it is nowhere on disk and
    /// <paramref name="downloader"/> is given — download it into <see cref="DataLocator.DownloadDirectory"/> with
    /// digest verification, then load it.
    /// </summary>
    /// <param name="spec">the data set.</param>
    /// <param name="locator">where to look and where downloads go.</param>
    /// <param name="options">binarisation and digest checks.</param>
    /// <param name="downloader">null: never download.</param>
    /// <param name="mirrors">base URLs overriding the registry's mirrors, or null.</param>
    public static Dataset Load(DatasetSpec spec, DataLocator locator, DatasetLoadOptions? options, DatasetDownloader? downloader,
                               IReadOnlyList<string>? mirrors = null)
    {
        var located = locator.TryLocate(spec);
        if (located is null && downloader is not null && (spec.Downloadable || mirrors is { Count: > 0 }))
        {
            downloader.Fetch(spec, locator.DownloadDirectory(spec), mirrors);
            located = locator.TryLocate(spec);
        }
        return Load(located ?? locator.Locate(spec), options);
    }

    /// <summary>Load the files of a located data set.</summary>
    /// <exception cref="InvalidDataException">a file is damaged, of the wrong type, holds the wrong number of
    /// examples, or (with digest verification) is not the file the registry expects.</exception>
    public static Dataset Load(LocatedDataset located, DatasetLoadOptions? options = null)
    {
        options ??= new DatasetLoadOptions();
        var spec = located.Spec;
        var mode = options.Binarization ?? spec.Binarization;
        var payloads = new Dictionary<string, byte[]>();
        foreach (var file in spec.Files)
        {
            var path = located.Files[file.Role];
            var payload = DataFilePayload.Read(path);
            if (options.VerifyDigests && file.Sha256 is not null)
            {
                var digest = DataFilePayload.Sha256(payload);
                if (digest != file.Sha256)
                    throw new InvalidDataException(
                        $"'{path}' has SHA-256 {digest} but {spec.Name} {file.Role} must have {file.Sha256}: the file is corrupted or belongs " +
                        $"to another data set; delete it and run 'ovis data fetch {spec.Name}'");
            }
            payloads[file.Role] = payload;
        }

        ImageSplit train, validation, test;
        if (spec.Files.Any(f => f.Format == DataFileFormat.Amat))
        {
            if (mode is not BinarizationMode.None)
                throw new ArgumentException($"{spec.Name} is binary already; its binarisation must be 'none', not '{mode}'");
            train = AmatSplit("train", spec.File("train"), located, payloads);
            validation = AmatSplit("validation", spec.File("valid"), located, payloads);
            test = AmatSplit("test", spec.File("test"), located, payloads);
        }
        else
        {
            var trainFile = IdxSplit("train", spec, located, payloads, "train-images", "train-labels");
            var testFile = IdxSplit("test", spec, located, payloads, "test-images", "test-labels");
            if (mode == BinarizationMode.Static)
            {
                var generator = new Generator(options.StaticSeed);
                trainFile = trainFile.BinarizeStatically(generator);
                testFile = testFile.BinarizeStatically(generator);
            }
            else if (mode == BinarizationMode.Threshold)
            {
                trainFile = trainFile.BinarizeByThreshold();
                testFile = testFile.BinarizeByThreshold();
            }
            else if (mode == BinarizationMode.None)
                throw new ArgumentException($"{spec.Name} holds grey levels: choose dynamic, static or threshold binarisation, not 'none'");
            test = testFile;
            if (spec.Validation == ValidationSplit.LastOfTrain)
            {
                int trainCount = trainFile.Count - spec.ValidationCount;
                train = trainFile.Slice("train", 0, trainCount);
                validation = trainFile.Slice("validation", trainCount, spec.ValidationCount);
            }
            else
            {
                train = trainFile;
                validation = testFile;
            }
        }
        return new Dataset(spec, train, validation, test, mode == BinarizationMode.Dynamic ? BinarizationMode.Dynamic : BinarizationMode.None, located.Files);
    }

    private static ImageSplit IdxSplit(string name, DatasetSpec spec, LocatedDataset located, Dictionary<string, byte[]> payloads,
                                       string imagesRole, string labelsRole)
    {
        var imagesSpec = spec.File(imagesRole);
        var labelsSpec = spec.File(labelsRole);
        var images = IdxReader.Parse(payloads[imagesRole], located.Files[imagesRole], IdxKind.Images);
        var labels = IdxReader.Parse(payloads[labelsRole], located.Files[labelsRole], IdxKind.Labels);
        if (images.Count != imagesSpec.Count)
            throw new InvalidDataException($"'{images.Path}' holds {images.Count} images, {spec.Name} {imagesRole} must hold {imagesSpec.Count}");
        if (labels.Count != images.Count)
            throw new InvalidDataException($"'{labels.Path}' holds {labels.Count} labels for the {images.Count} images of '{images.Path}'");
        using var scope = NewDisposeScope();
        var pixels = tensor(images.Data, new long[] { images.Count, images.ItemSize }, dtype: ScalarType.Byte).MoveToOuterDisposeScope();
        var classes = tensor(labels.Data, new long[] { labels.Count }, dtype: ScalarType.Byte).to(ScalarType.Int64).MoveToOuterDisposeScope();
        return new ImageSplit(name, pixels, classes, isBinary: false, images.Dimensions.Skip(1).ToArray());
    }

    private static ImageSplit AmatSplit(string name, DataFileSpec file, LocatedDataset located, Dictionary<string, byte[]> payloads)
    {
        var path = located.Files[file.Role];
        var parsed = AmatReader.Parse(payloads[file.Role], path, file.Count);
        using var scope = NewDisposeScope();
        var pixels = tensor(parsed.Data, new long[] { parsed.Count, AmatReader.ValuesPerLine }, dtype: ScalarType.Byte).MoveToOuterDisposeScope();
        return new ImageSplit(name, pixels, null, isBinary: true, new[] { 28, 28 });
    }
}
