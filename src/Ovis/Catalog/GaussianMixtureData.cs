using Ovis.Models;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>The infinite stream of the GMM task: c ~ π*, x ~ N(10c, 5²), [B, 1]; held-out points from the same law.</summary>
/// <param name="model">the model whose true mixture (π*, cluster means) generates the data.</param>
public sealed class GaussianMixtureData(GaussianMixtureModel model) : ITrainingData
{
    /// <inheritdoc />
    public Tensor NextBatch(int batchSize, Generator generator) => model.SampleData(batchSize, generator);

    /// <inheritdoc />
    public Tensor HeldOutBatch(int size, Generator generator) => model.SampleData(size, generator);
}
