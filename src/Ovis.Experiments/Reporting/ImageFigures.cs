using Ovis.Models;
using Ovis.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Reporting;

/// <summary>
/// The figures of a trained image model (docs/experiments.md §2.3–2.4): prior samples, shown as the pixel probabilities
/// E[x | z] with z ~ p(z), and reconstructions, a row of test images above the probabilities E[x | z] for one
/// z ~ q(z | x) each.
/// </summary>
public static class ImageFigures
{
    /// <summary>File name of the prior-sample grid.</summary>
    public const string PriorSamplesFile = "prior-samples.png";

    /// <summary>File name of the reconstruction grid.</summary>
    public const string ReconstructionsFile = "reconstructions.png";

    /// <summary>Write <paramref name="count"/> prior samples' E[x | z] as a grid of 8 per row.</summary>
    public static void WritePriorSamples(IBernoulliImageModel model, string path, int count = 64, Generator? generator = null, int side = 28)
    {
        using var scope = NewDisposeScope();
        var probabilities = model.ObservationProbabilities(model.SampleLatentPrior(count, generator));   // [N, D_x]
        ImageGrid.Save(probabilities, side, side, 8, path);
    }

    /// <summary>
    /// Write the images <paramref name="x"/> [N, ...] (N a multiple of 8 reads best) in rows of 8, each row followed
    /// by the row of their reconstructions E[x | z], z ~ q(z | x).
    /// </summary>
    public static void WriteReconstructions(LatentVariableModel model, Tensor x, string path, Generator? generator = null, int side = 28)
    {
        var imageModel = model as IBernoulliImageModel
            ?? throw new NotSupportedException($"model '{model.GetName()}' is not a Bernoulli image model; it has no reconstructions to draw");
        using var scope = NewDisposeScope();
        Tensor reconstructions;
        using (no_grad())
        {
            var latents = model.Sample(x, 1, new SamplingOptions(Reparameterize: false, Generator: generator))
                .Select(z => z.squeeze(1)).ToArray();                                           // one z per image, [N, D_l]
            reconstructions = imageModel.ObservationProbabilities(latents);                    // [N, D_x]
        }
        var originals = x.reshape(x.shape[0], -1).to(reconstructions.dtype);
        long n = originals.shape[0];
        var rows = new List<Tensor>();
        for (long start = 0; start < n; start += 8)
        {
            long length = Math.Min(8, n - start);
            rows.Add(Pad(originals.narrow(0, start, length)));
            rows.Add(Pad(reconstructions.narrow(0, start, length)));
        }
        ImageGrid.Save(cat(rows.ToArray(), 0), side, side, 8, path);
    }

    /// <summary>A row of fewer than 8 images padded with blank ones, so that originals and reconstructions align.</summary>
    private static Tensor Pad(Tensor row)
        => row.shape[0] == 8 ? row : cat(new[] { row, zeros(new long[] { 8 - row.shape[0], row.shape[1] }, dtype: row.dtype) }, 0);
}
