using Ovis.Bounds;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>How λ_1, the first positive point of the TVO partition, is chosen (docs/estimators.md §4.7).</summary>
public enum ThermodynamicSchedule
{
    /// <summary>λ_1 = 10^{−n} from <c>-beta{n}</c> (default n = 10).</summary>
    Fixed,
    /// <summary>TVO paper Fig. 3: λ_1 = 0.05 for K &lt; 10, 0.2 for K &lt; 30, else 0.3.</summary>
    Config1,
    /// <summary>TVO paper Fig. 6: λ_1 = 0.01 for K &lt; 10, 0.02 for K &lt; 30, else 0.03.</summary>
    Config2,
}

/// <summary>The Riemann rule of the TVO sum (docs/estimators.md §4.7).</summary>
public enum RiemannRule
{
    /// <summary>Δ_j = λ_{j+1} − λ_j for j &lt; P, Δ_P = 0 (a lower bound on log p(x)).</summary>
    Left,
    /// <summary>Δ_0 = 0, Δ_j = λ_j − λ_{j−1}.</summary>
    Right,
    /// <summary>the trapezoidal rule.</summary>
    Trapezoid,
}

/// <summary>
/// The thermodynamic variational objective (Masrani et al. 2019), docs/estimators.md §2.3 and §4.7, with the
/// reference code's covariance-form surrogate. Partition 0 = λ_0 &lt; λ_1 &lt; … &lt; λ_P = 1 with λ_1..λ_P log-spaced
/// (base 10) from λ_1 to 1. Per (b, m), with f_k = a_k (log q not detached), ℓp_k = log p(x, z_k),
/// ℓq_k = Σ_l log q(z_k^l|x) and for every λ_j:
/// w̄_{kj} = sg(softmax_k λ_j f_k), log π̃_{kj} = λ_j ℓp_k + (1−λ_j) ℓq_k, f̄_j = Σ_k w̄_{kj} f_k,
/// cov_j = ρ_K Σ_k w̄_{kj} sg(f_k − f̄_j)(log π̃_{kj} − Σ_l w̄_{lj} log π̃_{lj}) with ρ_K = K/(K−1) (1 at K = 1),
/// exp_j = Σ_k w̄_{kj} f_k; loss = −mean_{b,m} Σ_j Δ_j (cov_j + exp_j). Its gradient is the self-normalised
/// estimate of Σ_j Δ_j ∇E_{π_{λ_j}}[f] = Σ_j Δ_j (E_π[∇f] + Cov_π(f, ∇log π̃)); biased for finite K (no claim).
/// Only Σ_j Δ_j exp_j (<see cref="Value"/>) is the TVO value; the loss value is not. λ ∈ {0, 1} is applied with
/// exact selections, never 0·(−∞) (§10).
/// </summary>
public sealed class ThermodynamicVariationalObjective : GradientEstimator
{
    /// <summary>Create the estimator.</summary>
    /// <param name="intervals">P ≥ 1, the number of partition intervals.</param>
    /// <param name="betaExponent">n of <c>-beta{n}</c>: λ_1 = 10^{−n} under <see cref="ThermodynamicSchedule.Fixed"/>.</param>
    /// <param name="schedule">how λ_1 is chosen.</param>
    /// <param name="rule">the Riemann rule.</param>
    /// <param name="id">the canonical id.</param>
    public ThermodynamicVariationalObjective(int intervals = 2, int betaExponent = 10, ThermodynamicSchedule schedule = ThermodynamicSchedule.Fixed,
                                             RiemannRule rule = RiemannRule.Left, string? id = null)
        : base(id ?? CanonicalId(intervals, betaExponent, schedule, rule))
    {
        if (intervals < 1) throw new ArgumentException($"the TVO partition needs at least one interval (part ≥ 1), got {intervals}");
        if (intervals > 1000) throw new ArgumentException($"part = {intervals} intervals is unreasonable; use at most 1000");
        if (betaExponent < 0 || betaExponent > 300) throw new ArgumentException($"beta{betaExponent}: λ_1 = 10^−n needs 0 ≤ n ≤ 300");
        Intervals = intervals;
        BetaExponent = betaExponent;
        Schedule = schedule;
        Rule = rule;
    }

    /// <summary>The canonical id of a configuration, e.g. <c>tvo-part2-beta10-left</c>.</summary>
    public static string CanonicalId(int intervals, int betaExponent, ThermodynamicSchedule schedule, RiemannRule rule)
        => $"tvo-part{intervals}" + schedule switch
        {
            ThermodynamicSchedule.Config1 => "-config1",
            ThermodynamicSchedule.Config2 => "-config2",
            _ => $"-beta{betaExponent}",
        } + rule switch { RiemannRule.Right => "-right", RiemannRule.Trapezoid => "-trapz", _ => "-left" };

    /// <summary>P, the number of partition intervals.</summary>
    public int Intervals { get; }

    /// <summary>n with λ_1 = 10^{−n} (fixed schedule).</summary>
    public int BetaExponent { get; }

    /// <summary>How λ_1 is chosen.</summary>
    public ThermodynamicSchedule Schedule { get; }

    /// <summary>The Riemann rule.</summary>
    public RiemannRule Rule { get; }

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.Thermodynamic,
        "TVO: Riemann sum of E_{π_λ}[log w] over a log-spaced partition, covariance-form score-function gradient", "O(K·P)");

    /// <inheritdoc />
    public override GradientClaim? Claim(double alpha) => null;

    /// <summary>λ_1 for K particles (docs/estimators.md §4.7).</summary>
    public double FirstPoint(int particles) => Schedule switch
    {
        ThermodynamicSchedule.Config1 => particles < 10 ? 0.05 : particles < 30 ? 0.2 : 0.3,
        ThermodynamicSchedule.Config2 => particles < 10 ? 0.01 : particles < 30 ? 0.02 : 0.03,
        _ => Math.Pow(10, -BetaExponent),
    };

    /// <summary>The partition λ_0 = 0, then P points log-spaced from λ_1 to 1 inclusive (P = 1 gives (0, 1)).</summary>
    public double[] Partition(int particles)
    {
        var lambdas = new double[Intervals + 1];
        double start = Math.Log10(FirstPoint(particles));
        for (int j = 1; j <= Intervals; j++)
            lambdas[j] = Intervals == 1 ? 1 : Math.Pow(10, start + (0 - start) * (j - 1) / (Intervals - 1));
        if (Intervals > 1) lambdas[1] = FirstPoint(particles);                                   // exactly λ_1, not 10^{log10 λ_1}
        lambdas[Intervals] = 1;
        return lambdas;
    }

    /// <summary>The Riemann multipliers Δ_0..Δ_P of the partition (docs/estimators.md §4.7).</summary>
    public double[] Multipliers(int particles)
    {
        var lambda = Partition(particles);
        int p = Intervals;
        var delta = new double[p + 1];
        for (int j = 0; j <= p; j++)
            delta[j] = Rule switch
            {
                RiemannRule.Left => j < p ? lambda[j + 1] - lambda[j] : 0,
                RiemannRule.Right => j > 0 ? lambda[j] - lambda[j - 1] : 0,
                _ => j == 0 ? (lambda[1] - lambda[0]) / 2 : j == p ? (lambda[p] - lambda[p - 1]) / 2 : (lambda[j + 1] - lambda[j - 1]) / 2,
            };
        return delta;
    }

    /// <summary>
    /// λ_j·value at the partition points, [..., 1] → [..., J + 1]. The partition always starts at λ_0 = 0 and ends at
    /// λ_J = 1, so those columns are set by construction (exactly 0, also for a −∞ value where 0·(−∞) would be NaN,
    /// and exactly the value) and only the interior points <paramref name="interior"/> [J − 1] multiply: three
    /// operations instead of an element-wise select over every column.
    /// </summary>
    private static Tensor Heat(Tensor interior, Tensor value)
        => cat(new[] { zeros_like(value), value * interior, value }, -1);

    /// <summary>λ_j ℓp + (1 − λ_j) ℓq at the partition points with exact end points (ℓq at λ_0 = 0, ℓp at λ_J = 1), [..., J + 1].</summary>
    private static Tensor Interpolate(Tensor interior, Tensor logJoint, Tensor logPosterior)
        => cat(new[] { logPosterior, interior * logJoint + (1 - interior) * logPosterior, logJoint }, -1);

    /// <summary>The interior points λ_1 … λ_{J−1} of the partition for K particles, [J − 1] (empty for one interval).</summary>
    private Tensor InteriorPoints(int particles, ScalarType dtype)
    {
        var lambda = Partition(particles);
        return tensor(lambda[1..^1], dtype: dtype);
    }

    /// <summary>
    /// The TVO value Σ_j Δ_j Σ_k w̄_{kj} f_k per (b, m), [B, M], from f = a [B, M, K] (a Riemann sum of the
    /// thermodynamic integral, §2.3). With P = 1 and the left rule it is mean_k a_k, the average ELBO (§11).
    /// </summary>
    public Tensor Value(Tensor scaledLogWeights)
    {
        int k = (int)scaledLogWeights.shape[^1];
        var interior = InteriorPoints(k, scaledLogWeights.dtype);                                // [J − 1]
        var delta = tensor(Multipliers(k), dtype: scaledLogWeights.dtype);                      // [J + 1]
        var f = scaledLogWeights.unsqueeze(-1);                                                  // [B, M, K, 1]
        var heated = Heat(interior, f.detach());                                                 // [B, M, K, J + 1]
        var weights = (heated - heated.logsumexp(2, true)).exp();                                // w̄ [B, M, K, J]
        return ((weights * f).sum(2) * delta).sum(-1);                                           // [B, M]
    }

    /// <inheritdoc />
    public override EstimatorResult Surrogate(ParticleLogDensities densities, EstimatorContext context)
    {
        var settings = context.Settings;
        int k = CheckParticleCount(densities, settings);
        var shape = new long[] { densities.BatchSize, settings.OuterSamples, k };
        var dtype = densities.LogLikelihood.dtype;
        var interior = InteriorPoints(k, dtype);                                                 // λ_1 … λ_{J−1}
        var delta = tensor(Multipliers(k), dtype: dtype);                                        // [J]
        double rho = k == 1 ? 1 : (double)k / (k - 1);                                           // ρ_K

        var f = ScaledLogWeights(densities, settings, detachPosterior: false, shape).unsqueeze(-1);   // f = a [B, M, K, 1]
        var logJoint = densities.LogJoint().view(shape).unsqueeze(-1);                           // ℓp [B, M, K, 1]
        var logPosterior = densities.TotalLogPosterior().view(shape).unsqueeze(-1);              // ℓq [B, M, K, 1]

        Tensor weights, centred;
        using (no_grad())
        {
            var heated = Heat(interior, f.detach());                                             // λ_j f_k [B, M, K, J + 1]
            weights = (heated - heated.logsumexp(2, true)).exp();                                // w̄ [B, M, K, J]
            var mean = (weights * f.detach()).sum(2, true);                                      // f̄_j [B, M, 1, J]
            centred = f.detach() - mean;                                                         // sg(f_k − f̄_j) [B, M, K, J]
        }
        var logAnnealed = Interpolate(interior, logJoint, logPosterior);                         // log π̃ [B, M, K, J + 1]
        var annealedMean = (weights * logAnnealed).sum(2, true);                                 // [B, M, 1, J]
        var covariance = rho * (weights * centred * (logAnnealed - annealedMean)).sum(2);        // cov_j [B, M, J]
        var expectation = (weights * f).sum(2);                                                  // exp_j [B, M, J]
        var objective = ((covariance + expectation) * delta).sum(-1);                            // [B, M]
        var loss = -objective.mean(new long[] { -1 }).mean();

        var scaled = f.squeeze(-1).detach();                                                     // [B, M, K]
        var bound = ImportanceWeightedBound.FromScaledLogWeights(scaled, settings.Alpha);       // [B, M]
        var diagnostics = BaseDiagnostics(context, scaled, bound, densities.LogLikelihood.view(shape));
        if (context.Diagnostics)
            using (no_grad()) diagnostics["tvo/value"] = ((weights * f.detach()).sum(2) * delta).sum(-1).mean(new long[] { -1 });
        return new EstimatorResult(loss, diagnostics);
    }
}
