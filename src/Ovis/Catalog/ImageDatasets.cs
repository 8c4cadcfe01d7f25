using System.Collections.Concurrent;
using Ovis.Data;
using Ovis.Training;

namespace Ovis.Catalog;

/// <summary>
/// How the image models find and load their data set (docs/experiments.md §4): the registry's data sets, plus any
/// registered here (e.g. a small fixture); files located by <see cref="DataLocator"/> (<c>--data-dir</c>, then
/// <c>$OVIS_DATA_DIR</c>, the user cache and the data set's system folders); binarised as configured.
/// </summary>
public static class ImageDatasets
{
    /// <summary>The seed of the one fixed draw of <c>--binarization static</c> (train file first, then test file).</summary>
    public const ulong StaticBinarizationSeed = 0;

    private static readonly ConcurrentDictionary<string, DatasetSpec> extra = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Make a further data set known to <c>--dataset</c> (e.g. a small fixture in tests); the registry's names win.</summary>
    public static void Register(DatasetSpec spec) => extra[spec.Name] = spec;

    /// <summary>The data set named <paramref name="name"/>: the registry's, else one registered with <see cref="Register"/>.</summary>
    public static DatasetSpec Spec(string name)
        => extra.TryGetValue(name, out var spec) && !DatasetRegistry.All.Any(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
            ? spec : DatasetRegistry.Get(name);

    /// <summary>Load the configured data set with the configured binarisation.</summary>
    public static Dataset Load(TrainingConfiguration configuration)
    {
        var spec = Spec(configuration.Dataset);
        var options = new DatasetLoadOptions(ParseBinarization(configuration.Binarization, spec), StaticBinarizationSeed);
        return DatasetLoader.Load(new DataLocator(configuration.DataDirectory).Locate(spec), options);
    }

    /// <summary>
    /// N_train, the images of the training split of <paramref name="spec"/>, from the registry alone (no file is read):
    /// the training file less the validation images for MNIST (50,000), the training file for Fashion-MNIST (60,000),
    /// Larochelle's train file for binarized-mnist (50,000).
    /// </summary>
    public static int TrainingCount(DatasetSpec spec) => spec.Validation switch
    {
        ValidationSplit.LastOfTrain => spec.File("train-images").Count - spec.ValidationCount,
        ValidationSplit.OwnFile => spec.File("train").Count,
        _ => spec.File("train-images").Count,
    };

    /// <summary>
    /// <c>default</c> (the registry's: dynamic for MNIST, threshold ≥ 128 for Fashion-MNIST, none for binarised
    /// MNIST), <c>dynamic</c>, <c>static</c> (one Bernoulli draw with <see cref="StaticBinarizationSeed"/>),
    /// <c>threshold</c>.
    /// </summary>
    public static BinarizationMode? ParseBinarization(string name, DatasetSpec spec) => name switch
    {
        "default" => null,
        "dynamic" => BinarizationMode.Dynamic,
        "static" => BinarizationMode.Static,
        "threshold" => BinarizationMode.Threshold,
        _ => throw new ArgumentException($"--binarization must be default, dynamic, static or threshold, got '{name}' (data set {spec.Name})"),
    };
}
