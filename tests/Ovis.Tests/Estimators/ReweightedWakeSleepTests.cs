using Ovis.Analysis;
using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ovis.Tests.Estimators;

[Collection("Torch")]
public class ReweightedWakeSleepTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(2, 0.0)]
    [InlineData(3, 0.0)]
    [InlineData(3, 0.5)]
    public void WakeWakeThetaIsUnbiasedAndPhiIsTheWakeDirection(int k, double alpha)
    {
        using var scope = NewDisposeScope();
        var oracle = new ExactOracle(TinyModel.Create(), TinyModel.Data());
        var exact = oracle.Gradient(k, alpha);
        var moments = oracle.Moments(new WakeWake(), new EstimatorSettings(k, Alpha: alpha));
        Assert.True(TinyModel.Distance(moments.ThetaMean, exact.Theta) <= 1e-9 * TinyModel.Norm(exact.Theta),
            $"θ relative bias {TinyModel.Distance(moments.ThetaMean, exact.Theta) / TinyModel.Norm(exact.Theta):E3}");
        var wake = oracle.WakeDirection(k, alpha);
        Assert.True(TinyModel.Distance(moments.PhiMean, wake) <= 1e-9 * TinyModel.Norm(wake));
        var verified = new EstimatorVerifier(oracle).Verify(new WakeWake(), k, alpha);
        Assert.True(verified.ClaimHolds, $"claim residual {verified.ClaimResidual}");
    }

    /// <summary>Relative distance of the exact expected wake-φ gradient from −∇_φ KL(p(z|x) ‖ q) for K = 1, 2, 3, 4, 6.</summary>
    /// <param name="throughEstimator">take E[ĝ_φ] from the oracle's enumeration of the estimator (else the oracle's
    /// closed-form wake direction, equal to it as tested above, and much cheaper).</param>
    private Dictionary<int, double> WakeBiasSequence(ulong seed, bool throughEstimator)
    {
        var oracle = new ExactOracle(TinyModel.Create(seed), TinyModel.Data().narrow(0, 0, 1));   // x = (1, 0, 1)
        var target = oracle.PosteriorKlGradient();                                    // −∇_φ KL(p(z|x) ‖ q)
        var bias = new Dictionary<int, double>();
        foreach (var k in new[] { 1, 2, 3, 4, 6 })
        {
            var phiMean = throughEstimator ? oracle.Moments(new WakeWake(), new EstimatorSettings(k)).PhiMean : oracle.WakeDirection(k);
            bias[k] = TinyModel.Distance(phiMean, target) / TinyModel.Norm(target);
            output.WriteLine($"tiny model seed {seed}, wake-wake K={k}: ‖E[ĝ_φ] − (−∇_φ KL(p‖q))‖ / ‖∇_φ KL‖ = {bias[k]:E4}");
        }
        return bias;
    }

    // The default tiny model (seed 7) has a q far from p(z|x): its bias falls only slowly (0.96 at K = 3 over both data points; by Monte
    // Carlo 0.58 at K = 30, 0.14 at K = 300, 0.014 at K = 3000). Seed 3 shows the approach within K ≤ 6.
    [Fact]
    public void WakePhiApproachesTheNegativePosteriorKlGradientAsKGrows()
    {
        using var scope = NewDisposeScope();
        var slow = WakeBiasSequence(7, throughEstimator: false);
        Assert.True(slow[6] < slow[1]);
        var bias = WakeBiasSequence(3, throughEstimator: true);
        // K = 1: v_1 = 1 and E[h] = 0, so the expected wake gradient is 0 and the relative bias is exactly 1.
        Assert.Equal(1.0, bias[1], 9);
        Assert.True(bias[6] < 0.5 * bias[1], $"K=6 bias {bias[6]:E3} is not well below the K=1 bias {bias[1]:E3}");
    }

    [Fact]
    public void WakeSleepSharesTheThetaGradientWithWakeWake()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create();
        var x = TinyModel.Data();
        var settings = new EstimatorSettings(4, OuterSamples: 2);
        var densities = model.Forward(x, 8, new SamplingOptions(Generator: new Generator(3)));
        var theta = model.GenerativeParameters().Cast<Tensor>().ToArray();
        var wakeWake = new WakeWake().Surrogate(densities, new EstimatorContext(settings, model, x, new Generator(5)));
        var wakeSleep = new WakeSleep().Surrogate(densities, new EstimatorContext(settings, model, x, new Generator(5)));
        var a = torch.autograd.grad(new[] { wakeWake.Loss }, theta, retain_graph: true);
        var b = torch.autograd.grad(new[] { wakeSleep.Loss }, theta, retain_graph: true);
        for (int i = 0; i < theta.Length; i++) Assert.True(a[i].allclose(b[i], rtol: 1e-12, atol: 1e-14));
        Assert.Equal(wakeWake.Mean(DiagnosticKeys.Bound), wakeSleep.Mean(DiagnosticKeys.Bound), 12);
    }

    [Fact]
    public void WakeSleepIsRefusedByTheExactOracleAndReportedByTheVerifier()
    {
        using var scope = NewDisposeScope();
        var oracle = new ExactOracle(TinyModel.Create(), TinyModel.Data());
        Assert.Throws<NotSupportedException>(() => oracle.Moments(new WakeSleep(), new EstimatorSettings(2)));
        var result = new EstimatorVerifier(oracle).Verify(new WakeSleep(), 2, 0);
        Assert.Contains("directly", result.Error);
    }

    /// <summary>E_{p(x,z)}[∇_φ log q(z|x)], enumerating the 8 latent configurations and the 8 observed x.</summary>
    private static double[] ExactSleepDirection(SigmoidBeliefNetwork model)
    {
        var configurations = model.EnumerateConfigurations();                                  // per layer [C, D_l]
        long c = configurations[0].shape[0];
        var xs = arange(8, dtype: ScalarType.Int64).unsqueeze(1).bitwise_right_shift(arange(3, dtype: ScalarType.Int64)).bitwise_and(1).to(float64); // [8, 3]
        var latents = configurations.Select(z => z.unsqueeze(0).expand(8, -1, -1)).ToArray();  // [8, C, D_l]
        var densities = model.Evaluate(xs, latents);
        var joint = densities.LogJoint().detach().exp();                                        // p(x, z), [8, C]
        Assert.Equal(1.0, joint.sum().ToDouble(), 12);
        var objective = (joint * densities.TotalLogPosterior()).sum();
        var phi = model.InferenceParameters().Cast<Tensor>().ToArray();
        return cat(torch.autograd.grad(new[] { objective }, phi).Select(g => g.reshape(-1)).ToArray(), 0).data<double>().ToArray();
    }

    [Fact]
    public void SleepPhiMatchesItsExactExpectationOverModelSamples()
    {
        using var scope = NewDisposeScope();
        var model = TinyModel.Create();
        var exact = ExactSleepDirection(model);
        var phi = model.InferenceParameters().Cast<Tensor>().ToArray();
        var generator = new Generator(17);
        const int draws = 60, perDraw = 1500;
        var sum = new double[exact.Length];
        var sumSquares = new double[exact.Length];
        for (int n = 0; n < draws; n++)
        {
            using var inner = NewDisposeScope();
            var loss = WakeSleep.SleepLoss(model, perDraw, generator);
            var g = cat(torch.autograd.grad(new[] { loss }, phi).Select(t => -t.reshape(-1)).ToArray(), 0).data<double>().ToArray();
            for (int i = 0; i < g.Length; i++) { sum[i] += g[i]; sumSquares[i] += g[i] * g[i]; }
        }
        for (int i = 0; i < exact.Length; i++)
        {
            double mean = sum[i] / draws;
            double se = Math.Sqrt((sumSquares[i] / draws - mean * mean) / (draws - 1));
            Assert.True(Math.Abs(mean - exact[i]) <= 4 * se + 1e-12, $"φ[{i}]: mean {mean} vs exact {exact[i]} (SE {se})");
        }
        Assert.True(TinyModel.Norm(exact) > 1e-3);
    }

    /// <summary>A Gaussian toy that records how many sleep samples are requested.</summary>
    private sealed class CountingToy : LatentVariableModel, IGenerativeSampler
    {
        private readonly GaussianToyModel inner = new(2, dtype: float64, generator: new Generator(1));
        public CountingToy() : base("counting_toy") => RegisterComponents();
        public List<int> Requests { get; } = new();
        public override int LatentLayers => 1;
        public override bool CanReparameterize => true;
        public override IReadOnlyList<Parameter> GenerativeParameters() => inner.GenerativeParameters();
        public override IReadOnlyList<Parameter> InferenceParameters() => inner.InferenceParameters();
        public override IReadOnlyList<Tensor> Sample(Tensor x, int particles, SamplingOptions options) => inner.Sample(x, particles, options);
        public override ParticleLogDensities Evaluate(Tensor x, IReadOnlyList<Tensor> latents, bool detach = false) => inner.Evaluate(x, latents, detach);
        public (Tensor x, IReadOnlyList<Tensor> latents) SamplePrior(int count, Generator? generator = null)
        {
            Requests.Add(count);
            return inner.SamplePrior(count, generator);
        }
    }

    [Fact]
    public void WakeSleepDrawsAFullBatchOfBTimesMTimesKSleepSamples()
    {
        using var scope = NewDisposeScope();
        var model = new CountingToy();
        var x = randn(5, 2, dtype: float64);
        new WakeSleep().Compute(new EstimatorContext(new EstimatorSettings(3, OuterSamples: 2), model, x, new Generator(2)));
        Assert.Equal(new[] { 5 * 2 * 3 }, model.Requests);
    }

    [Fact]
    public void WakeSleepNeedsAGenerativeSampler()
    {
        var error = Assert.Throws<NotSupportedException>(() => WakeSleep.SleepLoss(new NoSampler(), 3, null));
        Assert.Contains("IGenerativeSampler", error.Message);
    }

    private sealed class NoSampler : LatentVariableModel
    {
        public NoSampler() : base("no_sampler") { }
        public override int LatentLayers => 1;
        public override bool CanReparameterize => false;
        public override IReadOnlyList<Parameter> GenerativeParameters() => Array.Empty<Parameter>();
        public override IReadOnlyList<Parameter> InferenceParameters() => Array.Empty<Parameter>();
        public override IReadOnlyList<Tensor> Sample(Tensor x, int particles, SamplingOptions options) => throw new InvalidOperationException();
        public override ParticleLogDensities Evaluate(Tensor x, IReadOnlyList<Tensor> latents, bool detach = false) => throw new InvalidOperationException();
    }
}
