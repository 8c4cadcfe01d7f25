using Ovis.Data;
using Ovis.Models;
using Ovis.Training;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// <c>sbn</c>: the paper's sigmoid belief network (docs/experiments.md §2.3), linear links, stochastic layers
/// 200, 200, 200 by default (<c>--layers</c>), q's input centred and the output bias initialised from the training
/// mean x̄.
/// </summary>
public sealed class SigmoidBeliefNetworkEntry : ImageModelEntry
{
    private static readonly int[] PaperLayers = { 200, 200, 200 };

    /// <inheritdoc />
    public override string Name => "sbn";

    /// <inheritdoc />
    public override string Description => "sigmoid belief network of paper Fig. 3 (--layers, default 200,200,200; binary latents)";

    /// <inheritdoc />
    public override bool CanReparameterize => false;

    /// <inheritdoc />
    protected override void ValidateLayers(IReadOnlyList<int> layers) { }

    /// <inheritdoc />
    protected override LatentVariableModel Build(TrainingConfiguration configuration, Dataset dataset, int pixels)
    {
        // x̄ of the training split (one random binarisation when dynamic), for q's input centring and the output bias.
        using var meanGenerator = RandomStreams.Create(configuration.Seed, RandomStreams.DataMean);
        using var dataMean = dataset.TrainingPixelMean(meanGenerator);
        return new SigmoidBeliefNetwork(pixels, Sizes(configuration.Layers), dataMean);
    }

    /// <inheritdoc />
    protected override LatentVariableModel BuildForBenchmark(ScalarType dtype, IReadOnlyList<int> layers)
        => new SigmoidBeliefNetwork(Pixels, Sizes(layers), dtype: dtype);

    /// <inheritdoc />
    /// <remarks>Each layer's samples, logits and probabilities (with gradients) and the pixels' logits.</remarks>
    protected override double BytesPerParticle(TrainingConfiguration configuration) => (Sizes(configuration.Layers).Sum() + (double)Pixels) * 4 * 6;

    /// <inheritdoc />
    protected override double ParameterBytes(TrainingConfiguration configuration)
    {
        var sizes = Sizes(configuration.Layers).Append(Pixels).ToArray();
        return 2.0 * sizes.Zip(sizes.Skip(1), (a, b) => (double)a * b).Sum() * 4 * 4;     // p and q
    }

    private static IReadOnlyList<int> Sizes(IReadOnlyList<int> layers) => layers.Count > 0 ? layers : PaperLayers;
}
