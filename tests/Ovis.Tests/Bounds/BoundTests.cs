using Ovis.Bounds;
using static TorchSharp.torch;

namespace Ovis.Tests.Bounds;

[Collection("Torch")]
public class BoundTests
{
    [Fact]
    public void ImportanceWeightedBoundIsLogMeanExp()
    {
        var logWeights = tensor(new double[] { -1, -2, -0.5 }, dtype: float64);
        double expected = Math.Log((Math.Exp(-1) + Math.Exp(-2) + Math.Exp(-0.5)) / 3);
        Assert.Equal(expected, ImportanceWeightedBound.Compute(logWeights).item<double>(), 1e-14);
    }

    [Fact]
    public void RenyiBoundTempersTheWeights()
    {
        var logWeights = tensor(new double[] { -1, -2, -0.5 }, dtype: float64);
        double alpha = 0.3;
        double expected = Math.Log(new[] { -1.0, -2, -0.5 }.Select(l => Math.Exp((1 - alpha) * l)).Average()) / (1 - alpha);
        Assert.Equal(expected, ImportanceWeightedBound.Compute(logWeights, alpha).item<double>(), 1e-14);
        // K = 1: the ELBO for every α.
        Assert.Equal(-1.25, ImportanceWeightedBound.Compute(tensor(new double[] { -1.25 }, dtype: float64), 0.7).item<double>(), 1e-14);
    }

    [Fact]
    public void RejectsAlphaOutsideTheUnitInterval()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ImportanceWeightedBound.Compute(zeros(3), 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImportanceWeightedBound.Compute(zeros(3), -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImportanceWeightedBound.Compute(zeros(3), double.NaN));
    }

    [Fact]
    public void EffectiveSampleSizeIsInverseSumOfSquaredWeights()
    {
        var logWeights = tensor(new double[] { 0, Math.Log(2), Math.Log(3) }, dtype: float64);
        Assert.Equal(36.0 / 14.0, EffectiveSampleSize.FromLogWeights(logWeights).item<double>(), 1e-13);
        Assert.Equal(1.0, EffectiveSampleSize.FromLogWeights(tensor(new double[] { -5 }, dtype: float64)).item<double>(), 1e-15);
        var huge = tensor(new double[] { 1e4, 1e4, double.NegativeInfinity }, dtype: float64);
        Assert.Equal(2.0, EffectiveSampleSize.FromLogWeights(huge).item<double>(), 1e-10); // round-off of 2e4-sized logs
    }

    [Fact]
    public void NormalizedWeightsSumToOneWithInfiniteEntries()
    {
        var v = NormalizedWeights.FromScaledLogWeights(tensor(new double[] { double.NegativeInfinity, 1e4, 1e4 }, dtype: float64)).data<double>().ToArray();
        Assert.Equal(new[] { 0.0, 0.5, 0.5 }, v);
    }
}
