using Ovis.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Tests.Training;

[Collection("Torch")]
public sealed class ContiguousParametersTests
{
    private static Sequential Network(ulong seed)
    {
        torch.manual_seed((long)seed);
        return nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3));
    }

    private static Tensor Loss(Sequential network, Tensor x) => network.forward(x).square().sum();

    [Fact]
    public void PackedParametersKeepTheirValuesAndTrainLikeTorchAdam()
    {
        using var scope = NewDisposeScope();
        var x = randn(new long[] { 7, 5 }, generator: new Generator(2));
        var packedNetwork = Network(3);
        var referenceNetwork = Network(3);
        var before = packedNetwork.parameters().Select(p => p.detach().clone()).ToArray();
        var packed = new ContiguousParameters(packedNetwork.parameters().ToArray());
        Assert.All(packedNetwork.parameters().Zip(before), pair => Assert.True(pair.First.detach().eq(pair.Second).all().item<bool>()));   // values kept
        Assert.Equal(packedNetwork.parameters().Sum(p => p.numel()), packed.Flat.numel());

        // Gradients land in the flat gradient through the views, and accumulate as PyTorch's do.
        Loss(packedNetwork, x).backward();
        Loss(referenceNetwork, x).backward();
        Assert.All(packedNetwork.parameters().Zip(referenceNetwork.parameters()), pair => Assert.True(pair.First.grad!.allclose(pair.Second.grad!)));
        Assert.True(packed.Flat.grad!.allclose(cat(referenceNetwork.parameters().Select(p => p.grad!.reshape(-1)).ToArray())));
        Loss(packedNetwork, x).backward();
        Assert.True(packed.Flat.grad!.allclose(2 * cat(referenceNetwork.parameters().Select(p => p.grad!.reshape(-1)).ToArray())));
        packed.ZeroGradients();
        Assert.Equal(0, packed.Flat.grad!.abs().sum().ToSingle());
        Assert.All(packedNetwork.parameters(), p => Assert.Equal(0, p.grad!.abs().sum().ToSingle()));

        // Adam over the flat tensor follows torch's Adam over the separate tensors.
        var referenceNetworkAgain = Network(3);
        var flatAdam = optim.Adam(new[] { packed.Flat }, lr: 0.05);
        var separateAdam = optim.Adam(referenceNetworkAgain.parameters(), lr: 0.05);
        for (int step = 0; step < 20; step++)
        {
            packed.ZeroGradients();
            Loss(packedNetwork, x).backward();
            flatAdam.step();
            separateAdam.zero_grad();
            Loss(referenceNetworkAgain, x).backward();
            separateAdam.step();
        }
        foreach (var (mine, theirs) in packedNetwork.parameters().Zip(referenceNetworkAgain.parameters()))
            Assert.True(mine.allclose(theirs, rtol: 1e-5, atol: 1e-6), $"max difference {(mine - theirs).abs().max().ToSingle()}");
        Assert.True(packedNetwork.parameters().First().detach().sub(before[0]).abs().max().ToSingle() > 0.1);     // it did train
    }

    [Fact]
    public void MixedDtypesOrRepeatedParametersAreRefused()
    {
        var a = new Parameter(zeros(3));
        var b = new Parameter(zeros(3, dtype: float64));
        Assert.Throws<ArgumentException>(() => new ContiguousParameters(new[] { a, b }));
        Assert.Throws<ArgumentException>(() => new ContiguousParameters(new[] { a, a }));
        Assert.Throws<ArgumentException>(() => new ContiguousParameters(Array.Empty<Parameter>()));
    }
}
