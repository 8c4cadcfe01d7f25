using Ovis.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Data;

[Collection("Torch")]
public class MiniBatchLoaderTests
{
    private static ImageSplit Split(int count)
    {
        // Image i has every pixel equal to i (so the pixels identify the image) — grey levels < 256.
        var pixels = arange(count, dtype: ScalarType.Int64).unsqueeze(1).expand(count, 4).to(ScalarType.Byte).contiguous();
        return new ImageSplit("train", pixels, arange(count, dtype: ScalarType.Int64), isBinary: false, new[] { 2, 2 });
    }

    [Fact]
    public void EachEpochVisitsEveryImageOnceInANewOrder()
    {
        using var scope = NewDisposeScope();
        var loader = new MiniBatchLoader(Split(23), 5, BinarizationMode.None, new Generator(3));
        Assert.Equal(5, loader.BatchesPerEpoch);
        var epochs = new List<long[]>();
        for (int e = 0; e < 3; e++)
        {
            var order = new List<long>();
            var sizes = new List<long>();
            foreach (var batch in loader.EpochBatches())
            {
                sizes.Add(batch.shape[0]);
                Assert.Equal(ScalarType.Float32, batch.dtype);
                order.AddRange(batch.select(1, 0).to(ScalarType.Int64).data<long>().ToArray());
            }
            Assert.Equal(new long[] { 5, 5, 5, 5, 3 }, sizes);
            Assert.Equal(Enumerable.Range(0, 23).Select(i => (long)i), order.OrderBy(i => i));
            epochs.Add(order.ToArray());
        }
        Assert.NotEqual(epochs[0], epochs[1]);
        Assert.NotEqual(epochs[1], epochs[2]);
        Assert.Equal(3, loader.Epoch);
        // The same seed gives the same order.
        var again = new MiniBatchLoader(Split(23), 5, BinarizationMode.None, new Generator(3));
        Assert.Equal(epochs[0], again.EpochBatches().SelectMany(b => b.select(1, 0).to(ScalarType.Int64).data<long>().ToArray()).ToArray());
    }

    [Fact]
    public void SavedStateResumesTheExactSequenceIncludingDynamicBinarisation()
    {
        using var scope = NewDisposeScope();
        var split = new ImageSplit("train", full(new long[] { 10, 50 }, 128, dtype: ScalarType.Byte), null, false, new[] { 5, 10 });
        var loader = new MiniBatchLoader(split, 4, BinarizationMode.Dynamic, new Generator(9));
        for (int i = 0; i < 4; i++) loader.Next();                      // into the second epoch
        var state = loader.SaveState();
        Assert.Equal((2, 1), (state.Epoch, state.NextBatch));
        var expected = Enumerable.Range(0, 6).Select(_ => loader.NextWithIndices()).ToArray();
        var resumed = new MiniBatchLoader(split, 4, BinarizationMode.Dynamic, new Generator(12345));
        resumed.RestoreState(state);
        foreach (var (images, indices) in expected)
        {
            var (again, againIndices) = resumed.NextWithIndices();
            Assert.Equal(indices, againIndices);
            Assert.True(images.allclose(again));
        }
        // Dynamic binarisation draws afresh: the first batches of two epochs differ even for equal pixels.
        Assert.False(expected[0].Images.allclose(expected[3].Images));
        Assert.Throws<ArgumentException>(() => new MiniBatchLoader(Split(3), 4, BinarizationMode.None, new Generator(1)).RestoreState(state));
    }

    [Fact]
    public void StaticModeRequiresABinarisedSplit()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => new MiniBatchLoader(Split(4), 2, BinarizationMode.Static, new Generator(1)));
        Assert.Contains("BinarizeStatically", e.Message);
        Assert.Throws<ArgumentException>(() => new MiniBatchLoader(Split(4), 0, BinarizationMode.None, new Generator(1)));
    }
}
