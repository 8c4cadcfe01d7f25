using Ovis.Bounds;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Tests.Bounds;

/// <summary>The O(K) leave-one-out reductions against a naive K×K oracle, and their delicate cases (docs/estimators.md §10).</summary>
[Collection("Torch")]
public class LeaveOneOutTests
{
    /// <summary>Naive oracle: logsumexp over a masked K×K matrix, in float64.</summary>
    private static double[] NaiveLeaveOneOut(double[] a)
        => a.Select((_, k) =>
        {
            var others = a.Where((_, l) => l != k).ToArray();
            double max = others.Max();
            if (double.IsNegativeInfinity(max)) return double.NegativeInfinity;
            return max + Math.Log(others.Sum(x => Math.Exp(x - max)));
        }).ToArray();

    [Theory]
    [InlineData(2, 1.0)]
    [InlineData(5, 1.0)]
    [InlineData(20, 10.0)]
    [InlineData(200, 30.0)]
    public void MatchesTheNaiveMaskedLogSumExp(int k, double scale)
    {
        using var scope = NewDisposeScope();
        var a = randn(new long[] { 3, k }, dtype: float64, generator: new Generator(11)) * scale;
        var loo = LeaveOneOut.LogSumExpExcludingEach(a);
        for (int row = 0; row < 3; row++)
        {
            var values = a[row].data<double>().ToArray();
            var expected = NaiveLeaveOneOut(values);
            var actual = loo[row].data<double>().ToArray();
            for (int i = 0; i < k; i++) Assert.Equal(expected[i], actual[i], 1e-12);
        }
    }

    [Fact]
    public void ExactWhenOneWeightDominates()
    {
        // v_0 = 1 − 1e-12 relative to the rest: LSE − log(1 − v_0) would cancel; the dominant entry's
        // sum of the others is summed directly.
        var a = tensor(new double[] { 0, -40, -40, -40, -40 }, dtype: float64);
        var loo = LeaveOneOut.LogSumExpExcludingEach(a).data<double>().ToArray();
        Assert.Equal(-40 + Math.Log(4), loo[0], 1e-13);
        Assert.Equal(Math.Log(1 + 3 * Math.Exp(-40)), loo[1], 1e-15);
    }

    [Fact]
    public void NegativeInfinityGivesNoNaN()
    {
        var a = tensor(new double[] { double.NegativeInfinity, 0.5, double.NegativeInfinity, -1 }, dtype: float64);
        var loo = LeaveOneOut.LogSumExpExcludingEach(a).data<double>().ToArray();
        var expected = NaiveLeaveOneOut(a.data<double>().ToArray());
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], loo[i], 1e-14);
        var mean = LeaveOneOut.MeanExcludingEach(a).data<double>().ToArray();
        Assert.True(mean.All(v => !double.IsNaN(v)));
        Assert.Equal(double.NegativeInfinity, mean[1]);
        Assert.Equal(double.NegativeInfinity, mean[0]); // the other −∞ remains among the others
        var allButOne = tensor(new double[] { double.NegativeInfinity, 2.0 }, dtype: float64);
        Assert.Equal(2.0, LeaveOneOut.MeanExcludingEach(allButOne).data<double>()[0]);
    }

    [Fact]
    public void TiedMaximaAndAllNegativeInfinityRows()
    {
        // Two equal maxima: each one's others still contain the other maximum; an all −∞ row is −∞, not NaN.
        var a = tensor(new double[] { 3, 3, -50, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity },
                       dtype: float64).view(2, 4);
        var loo = LeaveOneOut.LogSumExpExcludingEach(a).data<double>().ToArray();
        var expected = NaiveLeaveOneOut(new double[] { 3, 3, -50, double.NegativeInfinity });
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], loo[i], 1e-14);
        for (int i = 4; i < 8; i++) Assert.Equal(double.NegativeInfinity, loo[i]);
    }

    [Fact]
    public void FloatThirtyTwoKeepsFullRelativeAccuracyOfTheOthers()
    {
        // Every entry's leave-one-out sum in float32 agrees with the float64 one to a few float32 ulps of the result,
        // including the dominant entry whose others are 30 nats below it.
        using var scope = NewDisposeScope();
        var a64 = randn(new long[] { 8, 1000 }, dtype: float64, generator: new Generator(5)) * 3;
        a64[.., 0] = a64.amax(new long[] { -1 }) + 30;
        var exact = LeaveOneOut.LogSumExpExcludingEach(a64);
        var single = LeaveOneOut.LogSumExpExcludingEach(a64.to(float32)).to(float64);
        var relative = ((single - exact).abs() / exact.abs().clamp_min(1)).max().ToDouble();
        Assert.True(relative < 1e-6, $"relative error {relative}");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void OthersFarBelowTheMaximumDoNotUnderflow(ScalarType dtype)
    {
        // exp(−1000) underflows in both precisions; the dominant entry's others must still be −1000 + log(1 + e⁻¹).
        var a = tensor(new double[] { 0, -1000, -1001 }, dtype: float64).to(dtype);
        var loo = LeaveOneOut.LogSumExpExcludingEach(a).to(float64).data<double>().ToArray();
        Assert.Equal(-1000 + Math.Log(1 + Math.Exp(-1)), loo[0], 1e-4);
        Assert.Equal(0, loo[1], 1e-12);
        Assert.Equal(0, loo[2], 1e-12);
    }

    [Fact]
    public void HugeMagnitudesStayFinite()
    {
        var a = tensor(new double[] { 1e4, -1e4, 1e4 - 1, 3 }, dtype: float64);
        var loo = LeaveOneOut.LogSumExpExcludingEach(a).data<double>().ToArray();
        var expected = NaiveLeaveOneOut(a.data<double>().ToArray());
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], loo[i], 1e-9);
    }

    [Fact]
    public void SingleParticleIsTheEmptySum()
    {
        var loo = LeaveOneOut.LogSumExpExcludingEach(tensor(new double[] { 1.5 }, dtype: float64));
        Assert.Equal(double.NegativeInfinity, loo.data<double>()[0]);
        Assert.Throws<ArgumentException>(() => LeaveOneOut.MeanExcludingEach(tensor(new double[] { 1.5 }, dtype: float64)));
    }

    [Fact]
    public void LargeKRunsInLinearMemory()
    {
        // K = 10⁵ with a batch of 4: a K×K tensor would need 320 GB; the scans need a few MB.
        using var scope = NewDisposeScope();
        var a = randn(new long[] { 4, 100_000 }, generator: new Generator(3));
        var loo = LeaveOneOut.LogSumExpExcludingEach(a);
        var lse = a.logsumexp(-1, true);
        var check = (lse - loo).exp();  // = 1 / (1 − v_k)
        var v = (a - lse).exp();
        Assert.True((check * (1 - v) - 1).abs().max().ToSingle() < 1e-4);
    }
}
