using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Models;

/// <summary>Which spread the Gaussian toy's q uses (docs/experiments.md §2.1, docs/estimators.md §5.4, §9.7).</summary>
public enum GaussianToySpread
{
    /// <summary>standard deviation 2/3, as in the reference code (the default, matches the paper's figures).</summary>
    StandardDeviationTwoThirds,
    /// <summary>variance 2/3, as stated by Rainforth et al. (2018).</summary>
    VarianceTwoThirds,
}

/// <summary>
/// The Gaussian toy of the asymptotic study (Rainforth et al. 2018; docs/experiments.md §2.1):
/// p(z) = N(μ, I), p(x|z) = N(z, I), q(z|x) = N(xA + b, s²I) with a fixed s. θ = μ, φ = (A, b).
/// The exact posterior is N((x + μ)/2, I/2), so the optimum is μ* = mean(x), A* = I/2, b* = μ*/2.
/// One stochastic layer; reparameterisable.
/// </summary>
public sealed class GaussianToyModel : LatentVariableModel, IGenerativeSampler, IRowwiseGradientModel
{
    private readonly Parameter mu;   // θ, [D]
    private readonly Parameter A;    // φ, [D, D]
    private readonly Parameter b;    // φ, [D]

    /// <summary>Create the model with every parameter entry drawn from U[1.5, 2.5) (the reference initialisation).</summary>
    public GaussianToyModel(int dimension, GaussianToySpread spread = GaussianToySpread.StandardDeviationTwoThirds,
                            ScalarType dtype = ScalarType.Float32, Generator? generator = null)
        : base("gaussian_toy")
    {
        if (dimension <= 0) throw new ArgumentException("the Gaussian toy needs a positive dimension");
        Dimension = dimension;
        Spread = spread;
        PosteriorStd = spread == GaussianToySpread.StandardDeviationTwoThirds ? 2.0 / 3.0 : Math.Sqrt(2.0 / 3.0);
        mu = new Parameter(rand(new long[] { dimension }, dtype: dtype, generator: generator) + 1.5);
        A = new Parameter(rand(new long[] { dimension, dimension }, dtype: dtype, generator: generator) + 1.5);
        b = new Parameter(rand(new long[] { dimension }, dtype: dtype, generator: generator) + 1.5);
        RegisterComponents();
    }

    /// <summary>D, the dimension of x and z.</summary>
    public int Dimension { get; }

    /// <summary>Which definition of q's spread is used.</summary>
    public GaussianToySpread Spread { get; }

    /// <summary>s, the fixed standard deviation of q.</summary>
    public double PosteriorStd { get; }

    /// <summary>μ (θ).</summary>
    public Parameter Mu => mu;
    /// <summary>A (φ).</summary>
    public Parameter Weight => A;
    /// <summary>b (φ).</summary>
    public Parameter Bias => b;

    /// <inheritdoc />
    public override int LatentLayers => 1;

    /// <inheritdoc />
    public override bool CanReparameterize => true;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> GenerativeParameters() => new[] { mu };

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> InferenceParameters() => new[] { A, b };

    private Tensor PosteriorMean(Tensor x, bool detach)
        => detach ? x.matmul(A.detach()) + b.detach() : x.matmul(A) + b;                  // [B, D]

    /// <inheritdoc />
    public override IReadOnlyList<Tensor> Sample(Tensor x, int particles, SamplingOptions options)
        => SampleAround(PosteriorMean(x, detach: false), particles, options);

    private IReadOnlyList<Tensor> SampleAround(Tensor posteriorMean, int particles, SamplingOptions options)
    {
        var mean = posteriorMean.unsqueeze(1);                                               // [B, 1, D]
        var noise = StandardNoise(posteriorMean.shape[0], particles, mean.dtype, options.Generator);
        var z = mean + PosteriorStd * noise;                                                 // [B, P, D]
        return new[] { options.Reparameterize ? z : z.detach() };
    }

    /// <summary>
    /// ε ~ N(0, I), [B, P, D], drawn in float32 and widened to <paramref name="dtype"/>: TorchSharp's CPU normal
    /// sampler is several times slower in float64 (docs/performance.md), and a float32 draw is an exact float64 number, so the only
    /// effect is the 2⁻²⁴ resolution of the draws, far below any Monte Carlo error.
    /// </summary>
    private Tensor StandardNoise(long rows, int particles, ScalarType dtype, Generator? generator)
    {
        var noise = randn(new long[] { rows, particles, Dimension }, dtype: ScalarType.Float32, generator: generator);
        return dtype == ScalarType.Float32 ? noise : noise.to(dtype);
    }

    /// <inheritdoc />
    public override ParticleLogDensities Evaluate(Tensor x, IReadOnlyList<Tensor> latents, bool detachPosteriorParameters = false)
        => EvaluateAt(x, latents, PosteriorMean(x, detachPosteriorParameters), mu);

    /// <summary>The densities at posterior mean [B, D] and prior mean ([D] or per row [B, D]).</summary>
    private ParticleLogDensities EvaluateAt(Tensor x, IReadOnlyList<Tensor> latents, Tensor posteriorMean, Tensor priorMean)
    {
        if (latents.Count != 1) throw new ArgumentException($"the Gaussian toy has one latent layer, got {latents.Count}");
        var z = latents[0];                                                                  // [B, P, D]
        var observed = x.unsqueeze(1);                                                       // [B, 1, D]
        var logLikelihood = LogDensity.Normal(observed, z, 1.0).sum(-1);                    // [B, P]
        var prior = priorMean.dim() == 2 ? priorMean.unsqueeze(1) : priorMean;              // [B, 1, D] or [D]
        var logPrior = LogDensity.Normal(z, prior, 1.0).sum(-1);                            // [B, P]
        var logPosterior = LogDensity.Normal(z, posteriorMean.unsqueeze(1), PosteriorStd).sum(-1); // [B, P]
        return new ParticleLogDensities(logLikelihood, logPrior.unsqueeze(-1), logPosterior.unsqueeze(-1), latents);
    }

    /// <summary>Draw z ~ N(μ, I) and x ~ N(z, I) without gradient: x [N, D] and z [N, D].</summary>
    public (Tensor x, IReadOnlyList<Tensor> latents) SamplePrior(int count, Generator? generator = null)
    {
        if (count < 1) throw new ArgumentException($"the number of prior samples must be at least 1, got {count}");
        using var noGrad = no_grad();
        var z = mu.detach() + randn(new long[] { count, Dimension }, dtype: mu.dtype, generator: generator);   // [N, D]
        var x = z + randn(new long[] { count, Dimension }, dtype: mu.dtype, generator: generator);             // [N, D]
        return (x, new[] { z });
    }

    /// <summary>
    /// The row-wise evaluation (<see cref="IRowwiseGradientModel"/>): the leaves are the per-row posterior mean
    /// m_b = x_b A + b, [B, D], and a per-row copy of μ, [B, D]. Same random stream as <see cref="LatentVariableModel.Forward"/>.
    /// <para>
    /// Without reparameterisation (the score-function family) the densities use the quadratic-form expansion with
    /// z = c + sε, c = sg(m): every log-density is a function of ‖ε‖² and of ε·u for three per-row vectors u
    /// (u = x − c, c − μ, (c − m)/s), so the particles enter through one batched matrix product instead of several
    /// element-wise passes over [B, P, D] (docs/gradient-analysis.md §2). ε is drawn, projected and
    /// (in the backward pass) contracted in float32, the precision it is drawn in; the projections are widened before
    /// the log-densities are formed, so float32 rounding only perturbs each particle's log-weight by about 1e-6, far
    /// below the Monte Carlo error, and never enters a difference of log-weights. These densities carry no latents
    /// (score-function estimators never read them). With reparameterisation (pathwise estimators, which
    /// differentiate through z) the same expansion carries the path derivative through a zero-valued direction
    /// m − sg(m), and the latent returned is the particle's four coordinates (see <see cref="ReparameterizedRowwise"/>).
    /// </para>
    /// </summary>
    public RowwiseForward ForwardRowwise(Tensor x, int particles, SamplingOptions options, Tensor? noise = null)
    {
        if (noise is not null && (noise.dim() != 3 || noise.shape[0] != x.shape[0] || noise.shape[1] != particles || noise.shape[2] != Dimension))
            throw new ArgumentException($"the noise must be [{x.shape[0]}, {particles}, {Dimension}], got [{string.Join(", ", noise.shape)}]");
        Tensor posteriorMean, priorMean;
        using (no_grad())
        {
            posteriorMean = PosteriorMean(x, detach: true).clone();                          // m [B, D]
            priorMean = mu.detach().unsqueeze(0).expand(x.shape[0], Dimension).clone();     // μ [B, D]
        }
        posteriorMean.requires_grad_(true);
        priorMean.requires_grad_(true);
        var leaves = new[] { posteriorMean, priorMean };
        var evaluated = options.DetachPosteriorParameters ? posteriorMean.detach() : posteriorMean;
        noise ??= DrawRowwiseNoise(x.shape[0], particles, options.Generator);                 // ε [B, P, D] float32
        if (options.Reparameterize) return ReparameterizedRowwise(x, noise, leaves, evaluated);

        // ε stays in the float32 it is drawn in: the [B, P, D] tensors are read twice (the projection and its
        // backward) and never widened; only the [B, P] projections and norms are, before any log-weight arithmetic.
        // With u₁ = x − c, u₂ = c − μ, u₃ = (c − m_q)/s (zero-valued, carries ∂/∂m):
        //   log p(x|z) = −½‖u₁‖² + s ε·u₁ − ½s²‖ε‖² − C,  log p(z) = −½‖u₂‖² − s ε·u₂ − ½s²‖ε‖² − C,
        //   log q(z|x) = −½‖u₃‖² − ε·u₃ − ½‖ε‖² − C − D log s,
        // so the three densities are one [B, 3, P] tensor: the scaled projections plus row terms plus a multiple of ‖ε‖².
        var centre = posteriorMean.detach();                                                 // c [B, D]
        var dtype = centre.dtype;
        double s = PosteriorStd;
        var toData = x.to(dtype) - centre;                                                   // u₁
        var fromPrior = centre - priorMean;                                                  // u₂
        var fromPosterior = (centre - evaluated) / s;                                        // u₃
        var linear = Project(noise, dtype, s * toData, -s * fromPrior, -fromPosterior);      // [B, 3, P]
        var rowTerms = -0.5 * SquaredNorms(toData, fromPrior, fromPosterior) - LogNormalisers(dtype); // [B, 3, 1]
        var noiseSquare = torch.linalg.vector_norm(noise, 2, new long[] { -1 }).to(dtype).square(); // ‖ε‖² [B, P]
        var quadratic = tensor(new[] { -0.5 * s * s, -0.5 * s * s, -0.5 }, dtype: dtype).view(1, 3, 1);
        var densities = (linear + rowTerms).addcmul(quadratic, noiseSquare.unsqueeze(1), 1);   // [B, 3, P]
        var (logLikelihood, logPrior, logPosterior) = (densities.select(1, 0), densities.select(1, 1), densities.select(1, 2));
        // No latents: the score-function estimators read only the log-densities (a pathwise estimator would be refused).
        return new RowwiseForward(new ParticleLogDensities(logLikelihood, logPrior.unsqueeze(-1), logPosterior.unsqueeze(-1)), leaves);
    }

    /// <summary>
    /// The reparameterised row-wise forward in the quadratic-form expansion of the score-function path. With
    /// c = sg(m) and the zero-valued π = m − c (∂π/∂m = I), the particle is z = c + δ, δ = π + sε, and each density is
    /// a fixed linear combination of four coordinates Y = (δ·u₁, δ·u₃, ‖δ‖², π·u₂) plus the θ-only terms ‖u₂‖² and
    /// s ε·u₂, where u₁ = x − c, u₂ = c − μ, u₃ = c − m_q (m_q the evaluated posterior mean). Every ε-projection, ε·π
    /// included, comes from one batched product with ε (<see cref="Project"/>), and the backward pass reads ε once
    /// more; δ is never formed.
    /// <para>
    /// The returned latent is Y [B, P, 4] (in the leaves' dtype), not z: with q's parameters detached, every path from φ
    /// to particle k's log-weight runs through Y_k alone, so the pathwise estimators differentiate through it exactly
    /// as through z, and DReG's ∂/∂Y_k-correction gives exactly its ∂/∂z_k-correction (chain rule). Y's one
    /// θ-dependent coordinate π·u₂ has the θ-gradient −π = 0. ε and its projections stay in float32 (rounding about
    /// 1e-6 per log-density, far below any Monte Carlo error, and never in a difference of log-weights).
    /// </para>
    /// </summary>
    private RowwiseForward ReparameterizedRowwise(Tensor x, Tensor noise, Tensor[] leaves, Tensor evaluated)
    {
        var (posteriorMean, priorMean) = (leaves[0], leaves[1]);
        var centre = posteriorMean.detach();                                                 // c [B, D]
        var dtype = centre.dtype;
        double s = PosteriorStd;
        var path = posteriorMean - centre;                                                   // π = m − c [B, D], zero-valued
        var toData = x.to(dtype) - centre;                                                   // u₁ = x − c
        var fromPrior = centre - priorMean;                                                  // u₂ = c − μ
        var fromPosterior = centre - evaluated;                                              // u₃ = c − m_q, zero-valued
        var projections = Project(noise, dtype, s * toData, s * fromPosterior, 2 * s * path, s * fromPrior); // s ε·u₁, s ε·u₃, 2s ε·π, s ε·u₂ [B, 4, P]
        var noiseSquare = torch.linalg.vector_norm(noise, 2, new long[] { -1 }).to(dtype).square(); // ‖ε‖² [B, P]
        var pathTerms = stack(new[] { Dot(path, toData), Dot(path, fromPosterior), Dot(path, path) }, 1).unsqueeze(-1); // π·u₁, π·u₃, ‖π‖² [B, 3, 1]
        var quadratic = tensor(new[] { 0.0, 0.0, s * s }, dtype: dtype).view(1, 3, 1);
        var offsetTerms = (projections.narrow(1, 0, 3) + pathTerms).addcmul(quadratic, noiseSquare.unsqueeze(1), 1); // δ·u₁, δ·u₃, ‖δ‖² [B, 3, P]
        var pathPrior = Dot(path, fromPrior).view(-1, 1, 1).expand(-1, 1, noiseSquare.shape[1]);                 // π·u₂ [B, 1, P]
        var coordinates = cat(new[] { offsetTerms, pathPrior }, 1).transpose(1, 2);        // Y [B, P, 4] (a view)
        // log p(x|z) = Y₀ − ½Y₂ − ½‖u₁‖² − C,  log p(z) = −Y₃ − ½Y₂ − s ε·u₂ − ½‖u₂‖² − C,
        // log q(z|x) = −Y₁/s² − Y₂/(2s²) − ‖u₃‖²/(2s²) − C − D log s
        var mixing = tensor(new[,] { { 1.0, 0, -0.5, 0 }, { 0, 0, -0.5, -1 }, { 0, -1 / (s * s), -0.5 / (s * s), 0 } }, dtype: dtype);
        var rowTerms = -0.5 * SquaredNorms(toData, fromPrior, fromPosterior / s) - LogNormalisers(dtype); // [B, 3, 1]
        var densities = mixing.matmul(coordinates.transpose(1, 2)) + rowTerms;              // [B, 3, P]
        var logLikelihood = densities.select(1, 0);
        var logPrior = densities.select(1, 1) - projections.select(1, 3);
        var logPosterior = densities.select(1, 2);
        return new RowwiseForward(new ParticleLogDensities(logLikelihood, logPrior.unsqueeze(-1), logPosterior.unsqueeze(-1), new[] { coordinates }), leaves);
    }

    /// <summary>Row-wise dot products a·b of [B, D] tensors, [B].</summary>
    private static Tensor Dot(Tensor a, Tensor b) => (a * b).sum(-1);

    /// <summary>The squared norms ‖u_j‖² of per-row vectors [B, D], as [B, J, 1].</summary>
    private static Tensor SquaredNorms(params Tensor[] vectors) => stack(vectors, 1).square().sum(-1, keepdim: true);

    /// <summary>The normalisers of log p(x|z), log p(z) and log q(z|x): C, C and C + D log s with C = (D/2) log 2π, [1, 3, 1].</summary>
    private Tensor LogNormalisers(ScalarType dtype)
    {
        double constant = Dimension * 0.5 * Math.Log(2 * Math.PI);
        return tensor(new[] { constant, constant, constant + Dimension * Math.Log(PosteriorStd) }, dtype: dtype).view(1, 3, 1);
    }

    /// <summary>
    /// The projections of the particles' vectors <paramref name="particles"/> [B, P, D] (float32) on per-row
    /// directions u_j [B, D], as [B, J, P] in <paramref name="dtype"/>: one batched product U^T (J × D) · Vᵀ (D × P)
    /// per row. This orientation is the faster one on the CPU, in the forward pass and in the backward pass to U
    /// (which becomes G (J × P) · V instead of Vᵀ · G; docs/gradient-analysis.md §2).
    /// </summary>
    private static Tensor Project(Tensor particles, ScalarType dtype, params Tensor[] directions)
        => stack(directions, 1).to(ScalarType.Float32).bmm(particles.transpose(1, 2)).to(dtype);

    /// <summary>
    /// ε ~ N(0, I), [rows, P, D], in float32 (the precision of the row-wise [B, P, D] work; see
    /// <see cref="ForwardRowwise"/>), exactly the numbers <see cref="ForwardRowwise"/> draws itself.
    /// </summary>
    public Tensor DrawRowwiseNoise(long rows, int particles, Generator? generator)
        => StandardNoise(rows, particles, ScalarType.Float32, generator);

    /// <summary>
    /// Row b's parameter gradient from the leaf gradients g_m = ∂/∂m_b and g_μ: ∂/∂b = g_m, ∂/∂A_ij = x_bi·g_m,bj
    /// (since m_b = x_b A + b), ∂/∂μ = g_μ. Returns [B, numel].
    /// </summary>
    public Tensor RowGradient(Parameter parameter, Tensor x, IReadOnlyList<Tensor> leafGradients)
    {
        if (leafGradients.Count != 2) throw new ArgumentException($"the Gaussian toy has two row-wise leaves, got {leafGradients.Count} gradients");
        var posteriorMeanGradient = leafGradients[0];                                        // [B, D]
        if (parameter.Handle == b.Handle) return posteriorMeanGradient;
        if (parameter.Handle == mu.Handle) return leafGradients[1];
        if (parameter.Handle == A.Handle)
            return (x.unsqueeze(2).to(posteriorMeanGradient.dtype) * posteriorMeanGradient.unsqueeze(1)).reshape(x.shape[0], -1); // [B, D·D]
        throw new ArgumentException("the parameter is not one of the Gaussian toy's (μ, A, b)");
    }

    /// <summary>Set (μ, A, b) to the optimum for the data set x [N, D]: μ* = mean(x), A* = I/2, b* = μ*/2.</summary>
    public void SetOptimum(Tensor data)
    {
        using var noGrad = no_grad();
        var mean = data.mean(new long[] { 0 }).to(mu.dtype);
        mu.copy_(mean);
        A.copy_(eye(Dimension, dtype: A.dtype) / 2);
        b.copy_(mean / 2);
    }

    /// <summary>Add i.i.d. N(0, ε²) noise to every entry of μ, A and b (the perturbed evaluation point of Fig. 1).</summary>
    public void Perturb(double epsilon, Generator? generator = null)
    {
        using var noGrad = no_grad();
        foreach (var p in new[] { mu, A, b }) p.add_(randn(p.shape, dtype: p.dtype, generator: generator) * epsilon);
    }

    /// <summary>
    /// The toy's data set: μ_true ~ N(0, I) and then N points x = z + noise with z ~ N(μ_true, I), drawn from one
    /// generator seeded with <paramref name="seed"/> (42 in the reference). Returns (x [N, D], μ_true [D]).
    /// </summary>
    public static (Tensor data, Tensor trueMean) GenerateData(int dimension, int points, long seed = 42, ScalarType dtype = ScalarType.Float32)
    {
        var generator = new Generator((ulong)seed);
        var trueMean = randn(new long[] { dimension }, dtype: float64, generator: generator);
        var z = trueMean + randn(new long[] { points, dimension }, dtype: float64, generator: generator);
        var x = z + randn(new long[] { points, dimension }, dtype: float64, generator: generator);
        return (x.to(dtype), trueMean.to(dtype));
    }
}
