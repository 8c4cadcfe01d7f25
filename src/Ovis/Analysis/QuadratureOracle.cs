using Ovis.Bounds;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Analysis;

/// <summary>
/// A deterministic oracle for the one-dimensional Gaussian toy (docs/experiments.md §2.1, docs/estimators.md §5.4): the bound
/// L_K^α(x) = E_{ε ~ N(0, I_K)}[L(z = m(x) + s·ε)] and its exact gradient with respect to θ = μ and φ = (A, b),
/// computed by Gauss–Hermite product quadrature over the K standard-normal noises in float64. With z
/// reparameterised, differentiating the quadrature sum by autograd gives the gradient of the quadrature value, which
/// converges to ∇L_K as the number of nodes grows (to ≲1e−8 at the default 100 nodes for K ≤ 3, see the constructor).
/// For K = 1 the integrand is a quadratic in ε, so the quadrature is exact. The continuous-latent counterpart of <see cref="ExactOracle"/>.
/// </summary>
public sealed class QuadratureOracle
{
    /// <summary>Largest number of product-grid points per data point (100³ for K = 3).</summary>
    public const long MaxGridPoints = 1_000_000;

    private readonly GaussianToyModel model;
    private readonly Tensor data;        // [N, 1]
    private readonly Tensor nodes;       // ε_i, [n]
    private readonly Tensor logWeights;  // log ω_i, [n]

    /// <summary>Create the oracle for a one-dimensional float64 Gaussian toy at the data points <paramref name="data"/> [N, 1].</summary>
    /// <param name="model">the toy; its dimension must be 1 and its parameters float64.</param>
    /// <param name="data">x, [N, 1].</param>
    /// <param name="nodeCount">Gauss–Hermite nodes per particle. The log-sum-exp over particles has a steep (though
    /// smooth) crease where two log-weights cross, so convergence in n is geometric but slow-ish: on the toy the error
    /// of L_2 and its gradient is ~1e−6 at 40 nodes, ~1e−8 at 80 and ≲1e−8 at the default 100 (measured against 140).</param>
    public QuadratureOracle(GaussianToyModel model, Tensor data, int nodeCount = 100)
    {
        if (model.Dimension != 1)
            throw new ArgumentException($"the quadrature oracle integrates one-dimensional latents; the toy has dimension {model.Dimension} (use dimension 1)");
        if (model.Mu.dtype != ScalarType.Float64)
            throw new ArgumentException($"the quadrature oracle needs a float64 model for round-off accuracy, got {model.Mu.dtype}");
        if (data.dim() != 2 || data.shape[1] != 1)
            throw new ArgumentException($"data must be [N, 1], got [{string.Join(", ", data.shape)}]");
        this.model = model;
        this.data = data.to(float64);
        var (x, w) = GaussHermite(nodeCount);
        nodes = tensor(x, dtype: float64);
        logWeights = tensor(w, dtype: float64).log();
    }

    /// <summary>
    /// Nodes and weights of the n-point Gauss–Hermite rule for the standard normal density (probabilists' Hermite
    /// polynomials He_n): Σ_i ω_i f(ε_i) ≈ E_{ε~N(0,1)} f(ε), exact for polynomials of degree ≤ 2n − 1. Computed by
    /// Golub–Welsch: the nodes are the eigenvalues of the symmetric Jacobi matrix with zero diagonal and
    /// off-diagonal √1, …, √(n−1); ω_i is the squared first component of the i-th normalised eigenvector.
    /// </summary>
    public static (double[] nodes, double[] weights) GaussHermite(int count)
    {
        if (count < 1 || count > 200) throw new ArgumentException($"the Gauss–Hermite rule needs between 1 and 200 nodes, got {count}");
        using var scope = NewDisposeScope();
        var offDiagonal = arange(1, count, dtype: float64).sqrt();                                     // [n − 1]
        var jacobi = diag(offDiagonal, 1) + diag(offDiagonal, -1);                                    // [n, n]
        var (eigenvalues, eigenvectors) = linalg.eigh(jacobi);
        var weights = eigenvectors[0].square();                                                        // [n]
        return (eigenvalues.data<double>().ToArray(), weights.data<double>().ToArray());
    }

    /// <summary>Nodes per particle.</summary>
    public long NodeCount => nodes.shape[0];

    /// <summary>
    /// The bound L_K^α at data point <paramref name="point"/> [1, 1] as a differentiable function of (μ, A, b):
    /// Σ over the product grid of Π_k ω_{i_k} · (logsumexp_k (1−α) log w(m + s ε_{i_k}) − log K)/(1−α).
    /// </summary>
    private Tensor Bound(Tensor point, int particles, double alpha)
    {
        long n = NodeCount;
        var index = arange((long)Math.Pow(n, particles), dtype: ScalarType.Int64).unsqueeze(1);      // [G, 1]
        var place = pow(tensor(n), arange(particles - 1, -1, -1, dtype: ScalarType.Int64));          // [K]
        var grid = index.div(place, rounding_mode: RoundingMode.floor).remainder(n);                  // [G, K]
        long points = grid.shape[0];
        var mean = point.matmul(model.Weight) + model.Bias;                                           // m(x), [1, 1]
        var z = (mean + model.PosteriorStd * nodes[grid].reshape(1, -1)).unsqueeze(-1);              // [1, G·K, 1]
        var logWeight = model.Evaluate(point, new[] { z }).LogWeights(detachPosterior: false)        // [1, G·K]
                             .view(points, particles);                                               // [G, K]
        var bound = ImportanceWeightedBound.Compute(logWeight, alpha);                                // [G]
        var probability = logWeights[grid].sum(-1).exp();                                             // Π_k ω, [G]
        return (probability * bound).sum();
    }

    /// <summary>
    /// L_K^α and its exact gradient, batch mean over the data points: Theta = [∂/∂μ], Phi = [∂/∂A, ∂/∂b]
    /// (the model's parameter order). K is limited so that n^K ≤ <see cref="MaxGridPoints"/>.
    /// </summary>
    public ExactGradient Gradient(int particles, double alpha = 0)
    {
        if (particles < 1) throw new ArgumentException($"K must be at least 1, got {particles}");
        RenyiAlpha.Check(alpha);
        double gridPoints = Math.Pow(NodeCount, particles);
        if (gridPoints > MaxGridPoints)
            throw new ArgumentException($"{NodeCount}^{particles} = {gridPoints:G3} quadrature points exceed the limit {MaxGridPoints:G3}; use K ≤ 3 or fewer nodes");
        using var scope = NewDisposeScope();
        var theta = model.GenerativeParameters().ToArray();
        var phi = model.InferenceParameters().ToArray();
        double bound = 0;
        var thetaSum = new double[theta.Sum(p => p.numel())];
        var phiSum = new double[phi.Sum(p => p.numel())];
        long count = data.shape[0];
        for (long b = 0; b < count; b++)
        {
            var value = Bound(data.narrow(0, b, 1), particles, alpha);
            bound += value.ToDouble();
            var gradients = torch.autograd.grad(new[] { value }, theta.Concat(phi).ToArray());
            var flat = cat(gradients.Select(g => g.reshape(-1)).ToArray(), 0).data<double>().ToArray();
            for (int i = 0; i < thetaSum.Length; i++) thetaSum[i] += flat[i];
            for (int i = 0; i < phiSum.Length; i++) phiSum[i] += flat[thetaSum.Length + i];
        }
        return new ExactGradient(bound / count, thetaSum.Select(v => v / count).ToArray(), phiSum.Select(v => v / count).ToArray());
    }
}
