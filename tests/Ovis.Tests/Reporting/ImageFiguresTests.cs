using Ovis.Reporting;
using Ovis.Models;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Reporting;

[Collection("Torch")]
public sealed class ImageFiguresTests : IDisposable
{
    private readonly TempDirectory temporary = new();

    public void Dispose() => temporary.Dispose();

    [Theory]
    [InlineData("sbn")]
    [InlineData("vae")]
    public void ImageModelsDrawPriorLatentsAndPixelProbabilities(string name)
    {
        using var scope = NewDisposeScope();
        LatentVariableModel model = name == "sbn" ? new SigmoidBeliefNetwork(784, new[] { 5, 4 }) : new GaussianVae(784, 6, 8, 1);
        var imageModel = (IBernoulliImageModel)model;
        var latents = imageModel.SampleLatentPrior(7, new Generator(3));
        Assert.Equal(model.LatentLayers, latents.Count);
        Assert.All(latents, z => Assert.Equal(7, z.shape[0]));
        var probabilities = imageModel.ObservationProbabilities(latents);
        Assert.Equal(new long[] { 7, 784 }, probabilities.shape);
        Assert.True(probabilities.min().ToSingle() >= 0 && probabilities.max().ToSingle() <= 1);
        Assert.False(probabilities.requires_grad);
        // E[x | z] is the mean of the model's own p(x|z): log p(x|z) at x = 1 is log E[x | z].
        var x = ones(7, 784);
        var posteriorLatents = latents.Select(z => z.unsqueeze(1)).ToArray();                       // P = 1
        var logLikelihood = model.Evaluate(x, posteriorLatents).LogLikelihood.squeeze(1);          // [7]
        Assert.True(logLikelihood.allclose(probabilities.log().sum(-1), rtol: 1e-4, atol: 1e-3));
        var path = Path.Combine(temporary.Path, name, "reconstructions.png");
        ImageFigures.WriteReconstructions(model, rand(new long[] { 12, 784 }, generator: new Generator(4)), path, new Generator(5));
        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal(4 * 58 + 2, bitmap.Height);   // 12 images: 2 rows of originals, 2 of reconstructions
    }
}
