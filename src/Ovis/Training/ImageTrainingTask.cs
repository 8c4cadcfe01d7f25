using Ovis.Data;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// A deep generative model trained on an image data set (experiments.md §2.3 SBN, §2.4 Gaussian VAE): mini-batches
/// from a <see cref="MiniBatchLoader"/> over the training split (shuffled per epoch, binarised as configured, its
/// own generator so the data order does not depend on the estimator's particle draws), a fixed subset of the test
/// split for evaluation and gradient analysis, and a fixed subset of the training split for the train L_K of
/// Figure 3. The loader's position, permutation and generator are part of the checkpoint.
/// </summary>
public sealed class ImageTrainingTask : TrainingTask
{
    private const ulong DataStream = 0xD1B54A32D192ED03, MeanStream = 0x8CB92BA72F3D8DD7;

    private readonly LatentVariableModel model;
    private readonly Dataset dataset;
    private readonly MiniBatchLoader loader;
    private readonly Generator loaderGenerator;

    /// <summary>Load the data set named in <paramref name="configuration"/> and build the model (initialised from the seed).</summary>
    public ImageTrainingTask(TrainingConfiguration configuration, Device device)
    {
        dataset = TrainingData.Load(configuration);
        int pixels = dataset.Train.PixelCount;
        // nn.Linear's default initialisation draws from torch's global generator: seed it so a run is reproducible.
        manual_seed(unchecked((long)configuration.Seed));
        model = configuration.Model switch
        {
            "sbn" => BuildSigmoidBeliefNetwork(configuration, pixels),
            "vae" => BuildGaussianVae(configuration, pixels),
            _ => throw new ArgumentException($"model '{configuration.Model}' is not an image model; use sbn or vae"),
        };
        model.to(device);
        loaderGenerator = new Generator(unchecked(configuration.Seed + DataStream));
        loader = dataset.Loader(dataset.Train, configuration.BatchSize, loaderGenerator);
    }

    /// <summary>The image models, by name.</summary>
    public static readonly IReadOnlyList<string> Models = new[] { "sbn", "vae" };

    /// <summary>The loaded data set.</summary>
    public Dataset Dataset => dataset;

    /// <inheritdoc />
    public override LatentVariableModel Model => model;

    /// <inheritdoc />
    public override bool UsesLikelihoodEvaluator => true;

    private SigmoidBeliefNetwork BuildSigmoidBeliefNetwork(TrainingConfiguration configuration, int pixels)
    {
        // x̄ of the training split (one random binarisation when dynamic), for q's input centring and the output bias.
        using var meanGenerator = new Generator(unchecked(configuration.Seed + MeanStream));
        using var dataMean = dataset.TrainingPixelMean(meanGenerator);
        var layers = configuration.Layers.Length > 0 ? configuration.Layers : new[] { 200, 200, 200 };
        return new SigmoidBeliefNetwork(pixels, layers, dataMean);
    }

    private static GaussianVae BuildGaussianVae(TrainingConfiguration configuration, int pixels)
    {
        var sizes = configuration.Layers;
        if (sizes.Length is not (0 or 2))
            throw new ArgumentException($"--layers for the vae is 'N,H' (latents, hidden units per layer), got {sizes.Length} numbers");
        return sizes.Length == 0 ? new GaussianVae(pixels) : new GaussianVae(pixels, sizes[0], sizes[1]);
    }

    /// <inheritdoc />
    /// <remarks>The loader's batch size is fixed at construction (the run's --batch-size).</remarks>
    public override Tensor NextBatch(int batchSize, Generator generator)
    {
        if (batchSize != loader.BatchSize)
            throw new ArgumentException($"this task draws batches of {loader.BatchSize} images, not {batchSize}");
        return loader.Next();
    }

    /// <summary>A fixed random subset of the test split, binarised once (dynamic binarisation) with <paramref name="generator"/>.</summary>
    public override Tensor HeldOutBatch(int size, Generator generator) => Subset(dataset.Test, size, generator);

    /// <inheritdoc />
    public override Tensor? TrainingSubset(int size, Generator generator) => Subset(dataset.Train, size, generator);

    private Tensor Subset(ImageSplit split, int size, Generator generator)
    {
        using var scope = NewDisposeScope();
        int count = Math.Min(size, split.Count);
        var indices = randperm(split.Count, generator: generator).narrow(0, 0, count);          // [n]
        var pixels = split.Pixels.index_select(0, indices);                                       // [n, D]
        var images = dataset.Binarization == BinarizationMode.Dynamic ? Binarization.Sample(pixels, generator) : pixels.to(ScalarType.Float32);
        return images.to(model.parameters().First().device).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> Metrics(Tensor heldOut) => new Dictionary<string, double>();

    /// <inheritdoc />
    public override void SaveState(BinaryWriter writer)
    {
        var state = loader.SaveState();
        writer.Write(state.Epoch);
        writer.Write(state.NextBatch);
        writer.Write(state.Permutation is not null);
        if (state.Permutation is not null)
        {
            writer.Write(state.Permutation.Length);
            foreach (var i in state.Permutation) writer.Write(i);
        }
        writer.Write(state.GeneratorState.Length);
        writer.Write(state.GeneratorState);
    }

    /// <inheritdoc />
    public override void LoadState(BinaryReader reader)
    {
        int epoch = reader.ReadInt32(), next = reader.ReadInt32();
        long[]? permutation = null;
        if (reader.ReadBoolean())
        {
            permutation = new long[reader.ReadInt32()];
            for (int i = 0; i < permutation.Length; i++) permutation[i] = reader.ReadInt64();
        }
        var generatorState = reader.ReadBytes(reader.ReadInt32());
        loader.RestoreState(new LoaderState(epoch, next, permutation, generatorState));
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        loaderGenerator.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// Where <c>ovis train</c> finds its data (experiments.md §4): --data-dir, then OVIS_DATA_DIR, the user cache and the
/// data set's system folders (<see cref="DataLocator"/>), then <c>../shared/data</c> beside the checkout — found
/// from the working directory and from the folder of the running program upwards, the layout CI provides.
/// </summary>
public static class TrainingData
{
    /// <summary>The seed of the one fixed draw of <c>--binarization static</c> (train file first, then test file).</summary>
    public const ulong StaticBinarizationSeed = 0;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, DatasetSpec> extra = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Make a further data set known to <c>--dataset</c> (e.g. a small fixture in tests); the registry's names win.</summary>
    public static void RegisterDataset(DatasetSpec spec) => extra[spec.Name] = spec;

    /// <summary>The data set named <paramref name="name"/>: the registry's, else one registered with <see cref="RegisterDataset"/>.</summary>
    public static DatasetSpec Spec(string name)
        => extra.TryGetValue(name, out var spec) && !DatasetRegistry.All.Any(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
            ? spec : DatasetRegistry.Get(name);

    /// <summary>Load the configured data set with the configured binarisation.</summary>
    public static Dataset Load(TrainingConfiguration configuration)
    {
        var spec = Spec(configuration.Dataset);
        var options = new DatasetLoadOptions(ParseBinarization(configuration.Binarization, spec), StaticBinarizationSeed);
        return DatasetLoader.Load(Locate(spec, configuration.DataDirectory), options);
    }

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

    /// <summary>The data set's files: the locator's search, then ../shared/data beside the checkout.</summary>
    public static LocatedDataset Locate(DatasetSpec spec, string? dataDirectory)
    {
        var locator = new DataLocator(dataDirectory);
        var located = locator.TryLocate(spec);
        if (located is not null || dataDirectory is not null) return located ?? locator.Locate(spec);
        foreach (var shared in SharedDataCandidates())
            if (new DataLocator(shared, _ => null).TryLocate(spec) is { } found) return found;
        return locator.Locate(spec);
    }

    /// <summary>&lt;ancestor&gt;/../shared/data for the working directory and the program's folder and their ancestors, where it exists.</summary>
    public static IEnumerable<string> SharedDataCandidates()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "shared", "data");
                if (Directory.Exists(candidate)) yield return candidate;
            }
    }
}
