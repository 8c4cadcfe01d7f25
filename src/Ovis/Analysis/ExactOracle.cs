using Ovis.Estimators;
using Ovis.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Analysis;

/// <summary>An exact gradient split into the generative (θ) and inference (φ) parameters, flattened in the model's
/// parameter order.</summary>
/// <param name="Bound">the exact bound value (batch mean) for the φ target.</param>
/// <param name="Theta">∇_θ, flattened.</param>
/// <param name="Phi">∇_φ, flattened.</param>
public sealed record ExactGradient(double Bound, double[] Theta, double[] Phi);

/// <summary>The exact first two moments of an estimator's gradient (ascent direction) for the batch-mean loss.</summary>
/// <param name="ThetaMean">E[ĝ_θ].</param>
/// <param name="PhiMean">E[ĝ_φ].</param>
/// <param name="ThetaVariance">total variance E‖ĝ_θ − E ĝ_θ‖².</param>
/// <param name="PhiVariance">total variance E‖ĝ_φ − E ĝ_φ‖².</param>
/// <param name="Draws">how many equally or unequally likely joint samples were enumerated per data point.</param>
public sealed record EstimatorMoments(double[] ThetaMean, double[] PhiMean, double ThetaVariance, double PhiVariance, long Draws);

/// <summary>
/// The exact enumeration oracle (docs/design.md, "How it is checked"): for a model whose latents take finitely many
/// values, every K-tuple of particles (and every auxiliary particle) is enumerated, so that the bound L_K, its
/// gradient (autograd through the enumeration) and the exact mean and total variance of any estimator's gradient
/// are computed without Monte Carlo error. Use float64 parameters for round-off-level comparisons.
/// <para>
/// An estimator is evaluated through its own <see cref="GradientEstimator.Surrogate"/> on the enumerated
/// particles, with the per-particle log-densities as leaves; each joint sample's parameter gradient then follows
/// exactly by the chain rule through the per-configuration Jacobians of log p(x|z), log p(z_l) and log q(z_l|x).
/// </para>
/// </summary>
public sealed class ExactOracle
{
    /// <summary>Largest number of joint samples enumerated per data point.</summary>
    public const long MaxJointSamples = 4_000_000;

    private readonly LatentVariableModel model;
    private readonly IReadOnlyList<Tensor> configurations;   // per layer [C, D_l]
    private readonly Tensor data;                              // [N, ...]
    private readonly Parameter[] theta, phi;
    private readonly long thetaSize, phiSize;

    /// <summary>Create an oracle for a model with enumerable latents at the data points <paramref name="data"/> [N, ...].</summary>
    public ExactOracle(LatentVariableModel model, Tensor data)
    {
        if (model is not IEnumerableLatents enumerable)
            throw new ArgumentException($"model '{model.GetName()}' does not enumerate its latents; the exact oracle needs a discrete model (IEnumerableLatents)");
        this.model = model;
        this.data = data;
        configurations = enumerable.EnumerateConfigurations();
        theta = model.GenerativeParameters().ToArray();
        phi = model.InferenceParameters().ToArray();
        thetaSize = theta.Sum(p => p.numel());
        phiSize = phi.Sum(p => p.numel());
    }

    /// <summary>C, the number of joint latent configurations.</summary>
    public long Configurations => configurations[0].shape[0];

    /// <summary>N, the number of data points.</summary>
    public long DataPoints => data.shape[0];

    private Parameter[] AllParameters => theta.Concat(phi).ToArray();

    private Tensor Point(long index) => data.narrow(0, index, 1);

    private ParticleLogDensities ConfigurationDensities(Tensor point)
        => model.Evaluate(point, configurations.Select(c => c.unsqueeze(0)).ToArray());   // [1, C], [1, C, L]

    private Tensor Tuples(int particles)
    {
        long c = Configurations;
        double count = Math.Pow(c, particles);
        if (count > MaxJointSamples)
            throw new ArgumentException($"{c}^{particles} = {count:G3} joint samples are too many to enumerate (limit {MaxJointSamples:G3}); use a smaller K, S or model");
        long total = (long)count;
        var index = arange(total, dtype: ScalarType.Int64).unsqueeze(1);                      // [T, 1]
        var place = pow(tensor(c), arange(particles - 1, -1, -1, dtype: ScalarType.Int64));   // [K]
        return index.div(place, rounding_mode: RoundingMode.floor).remainder(c);               // [T, K], first particle slowest
    }

    private static double[] Flatten(IEnumerable<Tensor> gradients, IReadOnlyList<Parameter> parameters)
    {
        var list = gradients.ToArray();
        var pieces = new List<Tensor>();
        for (int i = 0; i < parameters.Count; i++)
            pieces.Add(list[i] is null || list[i].IsInvalid ? zeros(parameters[i].numel(), dtype: float64) : list[i].detach().reshape(-1).to(float64));
        return pieces.Count == 0 ? Array.Empty<double>() : cat(pieces.ToArray(), 0).data<double>().ToArray();
    }

    /// <summary>
    /// The exact bound E[L] over K-tuples (batch mean), as a differentiable function of the parameters.
    /// </summary>
    private Tensor ExactBound(Tensor point, int particles, double alpha)
    {
        var densities = ConfigurationDensities(point);
        var logPosterior = densities.TotalLogPosterior()[0];                                   // [C]
        var logWeight = densities.LogWeights(detachPosterior: false)[0];                       // [C]
        var tuples = Tuples(particles);                                                        // [T, K]
        var logProbability = logPosterior[tuples].sum(-1);                                     // [T]
        var bound = Bounds.ImportanceWeightedBound.Compute(logWeight[tuples], alpha);          // [T]
        return (logProbability.exp() * bound).sum();
    }

    /// <summary>
    /// The exact gradient of the batch-mean bound, ∇_θ L_{K_θ}^α and ∇_φ L_{K_φ}^α (they differ only for inclusive
    /// OVIS_MC), by autograd through the enumeration.
    /// </summary>
    public ExactGradient Gradient(int phiParticles, int thetaParticles, double alpha)
    {
        using var scope = NewDisposeScope();
        double bound = 0;
        var thetaSum = new double[thetaSize];
        var phiSum = new double[phiSize];
        for (long b = 0; b < DataPoints; b++)
        {
            var point = Point(b);
            var phiBound = ExactBound(point, phiParticles, alpha);
            bound += phiBound.ToDouble();
            var phiGradient = Flatten(torch.autograd.grad(new[] { phiBound }, phi, retain_graph: true, allow_unused: true), phi);
            var thetaBound = thetaParticles == phiParticles ? phiBound : ExactBound(point, thetaParticles, alpha);
            var thetaGradient = Flatten(torch.autograd.grad(new[] { thetaBound }, theta, allow_unused: true), theta);
            Accumulate(thetaSum, thetaGradient);
            Accumulate(phiSum, phiGradient);
        }
        return new ExactGradient(bound / DataPoints, Scale(thetaSum, 1.0 / DataPoints), Scale(phiSum, 1.0 / DataPoints));
    }

    /// <summary>The exact gradient of L_K^α for both parameter groups.</summary>
    public ExactGradient Gradient(int particles, double alpha = 0) => Gradient(particles, particles, alpha);

    /// <summary>
    /// The RWS wake-φ direction E[Σ_k v_k ∇_φ log q(z_k|x)] over K-tuples (batch mean), with v the tempered
    /// normalised weights: the bias direction of OVIS~ with γ &gt; 0 (docs/estimators.md §4.4).
    /// </summary>
    public double[] WakeDirection(int particles, double alpha = 0)
    {
        using var scope = NewDisposeScope();
        var sum = new double[phiSize];
        for (long b = 0; b < DataPoints; b++)
        {
            var densities = ConfigurationDensities(Point(b));
            var logPosterior = densities.TotalLogPosterior()[0];                                // [C]
            var scaled = Bounds.RenyiAlpha.Scale(densities.LogWeights(detachPosterior: true)[0], alpha);
            var tuples = Tuples(particles);
            var probability = logPosterior.detach()[tuples].sum(-1).exp();                      // [T]
            var weights = Bounds.NormalizedWeights.FromScaledLogWeights(scaled[tuples]).detach();   // v [T, K]
            var objective = (probability.unsqueeze(-1) * weights * logPosterior[tuples]).sum();
            Accumulate(sum, Flatten(torch.autograd.grad(new[] { objective }, phi, allow_unused: true), phi));
        }
        return Scale(sum, 1.0 / DataPoints);
    }

    /// <summary>
    /// −∇_φ KL(p(z|x) ‖ q(z|x)) = E_{p(z|x)}[∇_φ log q(z|x)] (batch mean), by enumerating z with the exact posterior
    /// p(z|x) ∝ p(x, z): the limit of the RWS wake-φ direction as K → ∞ (docs/estimators.md §4.6).
    /// </summary>
    public double[] PosteriorKlGradient()
    {
        using var scope = NewDisposeScope();
        var sum = new double[phiSize];
        for (long b = 0; b < DataPoints; b++)
        {
            var densities = ConfigurationDensities(Point(b));
            var logJoint = densities.LogJoint()[0].detach();                                       // [C]
            var posterior = (logJoint - logJoint.logsumexp(0L, false)).exp();                      // p(z|x), [C]
            var objective = (posterior * densities.TotalLogPosterior()[0]).sum();
            Accumulate(sum, Flatten(torch.autograd.grad(new[] { objective }, phi, allow_unused: true), phi));
        }
        return Scale(sum, 1.0 / DataPoints);
    }

    /// <summary>
    /// The TVO objective Σ_j Δ_j E_{π_{λ_j}}[log w] with exact expectations over the annealed targets
    /// π_λ(z) ∝ q(z|x)^{1−λ} p(x, z)^λ = q(z|x)·w(z)^λ (docs/estimators.md §2.3, §4.7; α = 0, β_KL = 1), and its gradient by
    /// autograd through the enumeration (batch mean): the limit of the TVO estimator's expected gradient as K → ∞.
    /// </summary>
    /// <param name="partition">λ_0..λ_P.</param>
    /// <param name="multipliers">Δ_0..Δ_P.</param>
    public ExactGradient ThermodynamicGradient(IReadOnlyList<double> partition, IReadOnlyList<double> multipliers)
    {
        if (partition.Count != multipliers.Count || partition.Count == 0)
            throw new ArgumentException($"the TVO partition ({partition.Count} points) and its multipliers ({multipliers.Count}) must have the same, non-zero length");
        using var scope = NewDisposeScope();
        double value = 0;
        var thetaSum = new double[thetaSize];
        var phiSum = new double[phiSize];
        for (long b = 0; b < DataPoints; b++)
        {
            var densities = ConfigurationDensities(Point(b));
            var logPosterior = densities.TotalLogPosterior()[0];                                    // [C]
            var logWeight = densities.LogWeights(detachPosterior: false)[0];                        // f = log w, [C]
            Tensor objective = zeros(1, dtype: logWeight.dtype).sum();
            for (int j = 0; j < partition.Count; j++)
            {
                if (multipliers[j] == 0) continue;
                var logAnnealed = partition[j] == 0 ? logPosterior : logPosterior + partition[j] * logWeight;
                var annealed = (logAnnealed - logAnnealed.logsumexp(0L, false)).exp();              // π_λ, [C]
                objective = objective + multipliers[j] * (annealed * logWeight).sum();
            }
            value += objective.ToDouble();
            Accumulate(thetaSum, Flatten(torch.autograd.grad(new[] { objective }, theta, retain_graph: true, allow_unused: true), theta));
            Accumulate(phiSum, Flatten(torch.autograd.grad(new[] { objective }, phi, allow_unused: true), phi));
        }
        return new ExactGradient(value / DataPoints, Scale(thetaSum, 1.0 / DataPoints), Scale(phiSum, 1.0 / DataPoints));
    }

    /// <summary>
    /// The exact mean and total variance of an estimator's gradient of the batch-mean loss, by enumerating every
    /// joint draw of its particles (K, or K + S for exclusive OVIS_MC) at each data point, with M = 1.
    /// </summary>
    public EstimatorMoments Moments(GradientEstimator estimator, EstimatorSettings settings)
    {
        if (settings.OuterSamples != 1) throw new ArgumentException("the exact oracle enumerates M = 1");
        if (estimator.RequiresReparameterization)
            throw new NotSupportedException($"estimator '{estimator.Id}' needs reparameterised samples; the exact oracle enumerates discrete latents, which have no path gradient");
        estimator.ValidateParticles(settings.Particles);
        int perDraw = estimator.ParticlesPerDraw(settings.Particles);
        var parameters = AllParameters;
        long size = thetaSize + phiSize;
        var meanSum = new double[size];
        double thetaVariance = 0, phiVariance = 0;
        long draws = 0;
        for (long b = 0; b < DataPoints; b++)
        {
            using var scope = NewDisposeScope();
            var point = Point(b);
            var (perDrawGradients, probability) = DrawGradients(estimator, settings, point, perDraw, parameters);   // [T, P], [T]
            var mean = (probability.unsqueeze(-1) * perDrawGradients).sum(0L);                                        // [P]
            var centred = (perDrawGradients - mean).square();                                                        // [T, P]
            var variance = (probability.unsqueeze(-1) * centred).sum(0L);                                             // [P]
            thetaVariance += variance.narrow(0, 0, thetaSize).sum().ToDouble();
            phiVariance += variance.narrow(0, thetaSize, phiSize).sum().ToDouble();
            Accumulate(meanSum, mean.data<double>().ToArray());
            draws = probability.shape[0];
        }
        long n = DataPoints;
        var meanAll = Scale(meanSum, 1.0 / n);
        // The batch-mean gradient averages N independent per-point gradients: its variance is Σ Var_b / N².
        return new EstimatorMoments(meanAll[..(int)thetaSize], meanAll[(int)thetaSize..], thetaVariance / (n * n), phiVariance / (n * n), draws);
    }

    /// <summary>Per joint draw t: the estimator's gradient (ascent) [T, P] and the draw's probability [T].</summary>
    private (Tensor gradients, Tensor probability) DrawGradients(GradientEstimator estimator, EstimatorSettings settings, Tensor point, int perDraw, Parameter[] parameters)
    {
        var densities = ConfigurationDensities(point);
        var logLikelihood = densities.LogLikelihood[0];                                           // [C]
        var logPrior = densities.LogPrior[0];                                                     // [C, L]
        var logPosterior = densities.LogPosterior[0];                                             // [C, L]
        long layers = logPrior.shape[1];

        // Jacobians of every per-configuration log-density w.r.t. all parameters: [C, P] and [C, L, P].
        var jacobianLikelihood = Jacobian(logLikelihood, parameters);
        var jacobianPrior = Jacobian(logPrior, parameters);
        var jacobianPosterior = Jacobian(logPosterior, parameters);

        var tuples = Tuples(perDraw);                                                             // [T, K_tot]
        long draws = tuples.shape[0];
        var leafLikelihood = logLikelihood.detach()[tuples].requires_grad_(true);                 // [T, K_tot]
        var leafPrior = logPrior.detach()[tuples].requires_grad_(true);                           // [T, K_tot, L]
        var leafPosterior = logPosterior.detach()[tuples].requires_grad_(true);                   // [T, K_tot, L]
        var latents = configurations.Select(z => z[tuples]).ToArray();                            // [T, K_tot, D_l]
        var particles = new ParticleLogDensities(leafLikelihood, leafPrior, leafPosterior, latents);
        var context = new EstimatorContext(settings, model, point.expand(draws, -1));

        var result = estimator.Surrogate(particles, context);
        var direct = torch.autograd.grad(new[] { result.Loss }, parameters, retain_graph: true, allow_unused: true);
        if (direct.Any(g => g is not null && !g.IsInvalid && g.abs().max().ToDouble() != 0))
            throw new NotSupportedException($"estimator '{estimator.Id}' uses the model's parameters directly, not only through the particles' log-densities; the exact oracle cannot enumerate it");
        var leafGradients = torch.autograd.grad(new[] { result.Loss }, new[] { leafLikelihood, leafPrior, leafPosterior }, allow_unused: true);

        long configurationCount = Configurations;
        Tensor Spread(Tensor gradient) =>                                                          // [T, K_tot] → [T, C]
            zeros(draws, configurationCount, dtype: float64).scatter_add_(1, tuples, gradient.to(float64));
        Tensor Safe(Tensor g, Tensor like) => g is null || g.IsInvalid ? zeros_like(like) : g;

        var gLikelihood = Safe(leafGradients[0], leafLikelihood);
        var gPrior = Safe(leafGradients[1], leafPrior);
        var gPosterior = Safe(leafGradients[2], leafPosterior);
        var total = Spread(gLikelihood).matmul(jacobianLikelihood);                               // [T, P]
        for (long l = 0; l < layers; l++)
        {
            total += Spread(gPrior.select(-1, l)).matmul(jacobianPrior.select(1, l));
            total += Spread(gPosterior.select(-1, l)).matmul(jacobianPosterior.select(1, l));
        }
        // The loss averages over the T draws and is minimised: each draw's ascent direction is −T·∂loss/∂·.
        var gradients = -draws * total;
        var probability = logPosterior.detach().sum(-1)[tuples.narrow(1, 0, perDraw)].sum(-1).exp();
        return (gradients, probability);
    }

    /// <summary>∂ values[i…] / ∂ parameters, flattened: [values.shape…, P] (one backward pass per entry; small models only).</summary>
    private static Tensor Jacobian(Tensor values, Parameter[] parameters)
    {
        // A density that depends on no parameter (e.g. the GMM's fixed likelihood) has a zero Jacobian; autograd
        // would abort the process on it.
        if (!values.requires_grad)
            return zeros(values.shape.Append(parameters.Sum(p => p.numel())).ToArray(), dtype: float64);
        var flat = values.reshape(-1);
        long count = flat.shape[0];
        var rows = new Tensor[count];
        for (long i = 0; i < count; i++)
        {
            var grads = torch.autograd.grad(new[] { flat[i] }, parameters, retain_graph: true, allow_unused: true);
            rows[i] = cat(grads.Select((g, j) => g is null || g.IsInvalid ? zeros(parameters[j].numel(), dtype: float64) : g.reshape(-1).to(float64)).ToArray(), 0);
        }
        var shape = values.shape.Append(rows[0].shape[0]).ToArray();
        return stack(rows, 0).reshape(shape);
    }

    private static void Accumulate(double[] sum, double[] values)
    {
        for (int i = 0; i < sum.Length; i++) sum[i] += values[i];
    }

    private static double[] Scale(double[] values, double factor) => values.Select(v => v * factor).ToArray();
}
