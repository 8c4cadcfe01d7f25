using Ovis.Models;
using Ovis.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>
/// The Gaussian toy's fixed data set (docs/experiments.md §2.8): shuffled mini-batches without replacement, a new
/// permutation each epoch from the run's generator (its position is checkpointed); the held-out points are the
/// first points of the set. Also the toy's metrics: the distances of μ, A and b to the optimum μ* = mean(x),
/// A* = I/2, b* = μ*/2.
/// </summary>
public sealed class GaussianToyData : ITrainingData, ITrainingMetrics, IDisposable
{
    /// <summary>Metric keys: ‖A − A*‖, ‖b − b*‖, ‖μ − μ*‖ and ‖(A, b) − (A*, b*)‖ (Frobenius/L2 norms).</summary>
    public const string AErrorKey = "gaussian_toy/mse_A", BErrorKey = "gaussian_toy/mse_b", MuErrorKey = "gaussian_toy/mse_mu", PhiErrorKey = "gaussian_toy/mse_phi";

    private readonly GaussianToyModel model;
    private readonly Tensor data;          // [N, D]
    private readonly Tensor trueMean;      // μ* = mean(x), [D]
    private Tensor? permutation;           // this epoch's order, [N]
    private long cursor;

    /// <summary>Serve <paramref name="data"/> [N, D] to train <paramref name="model"/>.</summary>
    public GaussianToyData(GaussianToyModel model, Tensor data)
    {
        this.model = model;
        this.data = data;
        trueMean = data.mean(new long[] { 0 });
    }

    /// <inheritdoc />
    public Tensor NextBatch(int batchSize, Generator generator)
    {
        long n = data.shape[0];
        var pieces = new List<Tensor>();
        long needed = Math.Min(batchSize, n);
        while (needed > 0)
        {
            if (permutation is null || cursor >= n)
            {
                permutation?.Dispose();
                permutation = randperm(n, generator: generator);
                permutation.DetachFromDisposeScope();
                cursor = 0;
            }
            long take = Math.Min(needed, n - cursor);
            pieces.Add(permutation.narrow(0, cursor, take));
            cursor += take;
            needed -= take;
        }
        return data.index_select(0, cat(pieces.ToArray(), 0).to(data.device));
    }

    /// <inheritdoc />
    public Tensor HeldOutBatch(int size, Generator generator) => data.narrow(0, 0, Math.Min(size, data.shape[0]));

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Measure(Tensor heldOut)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var errorA = model.Weight - eye(model.Dimension, dtype: model.Weight.dtype, device: data.device) / 2;
        var errorB = model.Bias - trueMean / 2;
        var errorMu = model.Mu - trueMean;
        double a = errorA.square().sum().ToDouble(), b = errorB.square().sum().ToDouble();
        return new Dictionary<string, double>
        {
            [AErrorKey] = Math.Sqrt(a),
            [BErrorKey] = Math.Sqrt(b),
            [MuErrorKey] = Math.Sqrt(errorMu.square().sum().ToDouble()),
            [PhiErrorKey] = Math.Sqrt(a + b),
        };
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(permutation is not null);
        if (permutation is null) return;
        var order = permutation.cpu().data<long>().ToArray();
        writer.Write(order.Length);
        foreach (var i in order) writer.Write(i);
        writer.Write(cursor);
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        if (!reader.ReadBoolean()) { permutation = null; cursor = 0; return; }
        var order = new long[reader.ReadInt32()];
        for (int i = 0; i < order.Length; i++) order[i] = reader.ReadInt64();
        permutation?.Dispose();
        permutation = tensor(order);
        permutation.DetachFromDisposeScope();
        cursor = reader.ReadInt64();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        permutation?.Dispose();
        data.Dispose();
        trueMean.Dispose();
    }
}
