using Ovis.Data;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// An image data set as a training source (docs/experiments.md §2.3–2.4, §4): mini-batches from a
/// <see cref="MiniBatchLoader"/> over the training split (shuffled per epoch, binarised as configured, with a
/// generator of its own so that the data order does not depend on the estimator's particle draws), fixed subsets of
/// the test split for evaluation and gradient analysis, and fixed subsets of the training split for the train L_K
/// of Figure 3. The loader's position, permutation and generator are part of the checkpoint.
/// </summary>
public sealed class ImageTrainingData : ITrainingData, IDisposable
{
    private readonly MiniBatchLoader loader;
    private readonly Generator loaderGenerator;
    private readonly Device device;

    /// <summary>Serve <paramref name="dataset"/> in batches of <paramref name="batchSize"/> images, on <paramref name="device"/>.</summary>
    public ImageTrainingData(Dataset dataset, int batchSize, ulong seed, Device device)
    {
        Dataset = dataset;
        this.device = device;
        loaderGenerator = RandomStreams.Create(seed, RandomStreams.DataOrder);
        loader = dataset.Loader(dataset.Train, batchSize, loaderGenerator);
    }

    /// <summary>The loaded data set.</summary>
    public Dataset Dataset { get; }

    /// <inheritdoc />
    /// <remarks>The loader's batch size is fixed at construction (the run's --batch-size).</remarks>
    public Tensor NextBatch(int batchSize, Generator generator)
    {
        if (batchSize != loader.BatchSize)
            throw new ArgumentException($"this data source draws batches of {loader.BatchSize} images, not {batchSize}");
        return loader.Next().to(device);
    }

    /// <summary>A fixed random subset of the test split, binarised once (dynamic binarisation) with <paramref name="generator"/>.</summary>
    public Tensor HeldOutBatch(int size, Generator generator) => Subset(Dataset.Test, size, generator);

    /// <inheritdoc />
    public bool HasTrainingSplit => true;

    /// <inheritdoc />
    public Tensor TrainingSubset(int size, Generator generator) => Subset(Dataset.Train, size, generator);

    private Tensor Subset(ImageSplit split, int size, Generator generator)
    {
        using var scope = NewDisposeScope();
        int count = Math.Min(size, split.Count);
        var indices = randperm(split.Count, generator: generator).narrow(0, 0, count);          // [n]
        var pixels = split.Pixels.index_select(0, indices);                                       // [n, D]
        var images = Dataset.Binarization == BinarizationMode.Dynamic ? Binarization.Sample(pixels, generator) : pixels.to(ScalarType.Float32);
        return images.to(device).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
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
    public void LoadState(BinaryReader reader)
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
    public void Dispose() => loaderGenerator.Dispose();
}
