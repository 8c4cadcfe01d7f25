using Ovis.Bounds;
using Ovis.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// The neural baseline b_ψ(x) of <c>reinforce-baseline</c> (estimators.md §4.1): the input 2x − 1, flattened, then
/// Linear(D_x → H), tanh, Linear(H → 1), squeezed to [B]. The reference puts a BatchNorm1d after the hidden
/// Linear; Ovis leaves it out: in training mode it makes b(x_b) depend on the other points of the batch (and, in
/// the exact oracle, on a batch of identical copies, where it normalises every input to zero), and it behaves
/// differently in evaluation mode. The baseline still depends on x only, which is what keeps the estimator unbiased.
/// </summary>
public sealed class NeuralBaseline : nn.Module<Tensor, Tensor>
{
    private readonly Linear hidden, output;

    /// <summary>Create the network for inputs of <paramref name="inputSize"/> features.</summary>
    public NeuralBaseline(long inputSize, int hiddenUnits, ScalarType dtype) : base("neural_baseline")
    {
        if (inputSize < 1 || hiddenUnits < 1) throw new ArgumentException("the baseline needs a positive input size and hidden width");
        InputSize = inputSize;
        hidden = nn.Linear(inputSize, hiddenUnits, dtype: dtype);
        output = nn.Linear(hiddenUnits, 1, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>D_x, the flattened input size.</summary>
    public long InputSize { get; }

    /// <summary>b_ψ(x) for x [B, ...]: [B].</summary>
    public override Tensor forward(Tensor x)
    {
        var input = (2 * x.flatten(1) - 1).to(hidden.weight!.dtype);                              // [B, D_x]
        return output.forward(hidden.forward(input).tanh()).squeeze(-1);                       // [B]
    }
}

/// <summary>
/// <c>reinforce-baseline</c>: REINFORCE with a learned baseline c_k = b_ψ(x), the same for every k and m
/// (estimators.md §3, §4.1). The surrogate adds T_cv = mean_{m,k}(b_ψ(x) − sg(d_k))² to the score-function loss
/// (w_cv = 1); ψ receives gradient only from T_cv because (d_k − c_k) is detached inside T_φ. Unbiased: b_ψ(x) does
/// not depend on z_k. The estimator owns ψ (built at the first call from the data's shape and the model's dtype);
/// a trainer should give <see cref="BaselineParameters"/> their own optimiser (the reference: Adam, lr 5e-3).
/// </summary>
public sealed class ReinforceBaseline : GradientEstimator
{
    private NeuralBaseline? baseline;

    /// <summary>Create the estimator.</summary>
    /// <param name="hiddenUnits">H, the baseline's hidden width (64 in the reference).</param>
    public ReinforceBaseline(int hiddenUnits = 64) : base("reinforce-baseline")
    {
        if (hiddenUnits < 1) throw new ArgumentException($"the baseline's hidden width must be positive, got {hiddenUnits}");
        HiddenUnits = hiddenUnits;
    }

    /// <summary>H, the hidden width.</summary>
    public int HiddenUnits { get; }

    /// <summary>The learning rate the reference gives the baseline's own Adam optimiser.</summary>
    public const double RecommendedLearningRate = 5e-3;

    /// <inheritdoc />
    public override EstimatorDescription Description => new(EstimatorFamily.ScoreFunction,
        "REINFORCE with a learned neural baseline c_k = b_ψ(x), fitted by mean_k (b − d_k)²", "O(K)");

    /// <inheritdoc />
    public override GradientClaim Claim(double alpha) => GradientClaim.Unbiased("c_k = b_ψ(x) depends on x only");

    /// <summary>The baseline network, or null before it is built.</summary>
    public NeuralBaseline? Network => baseline;

    /// <summary>Build the baseline for inputs of <paramref name="inputSize"/> features (done automatically at the first call).</summary>
    public NeuralBaseline Build(long inputSize, ScalarType dtype)
    {
        if (baseline is null) baseline = new NeuralBaseline(inputSize, HiddenUnits, dtype);
        else if (baseline.InputSize != inputSize)
            throw new ArgumentException($"the baseline of '{Id}' was built for {baseline.InputSize} input features, got data with {inputSize}; use one estimator per data set");
        return baseline;
    }

    /// <summary>ψ, the baseline's parameters (train them with their own optimiser); builds nothing.</summary>
    public IReadOnlyList<Parameter> BaselineParameters()
        => baseline?.parameters().ToArray()
           ?? throw new InvalidOperationException($"the baseline of '{Id}' is built at the first Compute/Surrogate call (or by Build); call that first");

    /// <inheritdoc />
    public override EstimatorResult Surrogate(ParticleLogDensities densities, EstimatorContext context)
    {
        var settings = context.Settings;
        int perDraw = CheckParticleCount(densities, settings);
        long batch = densities.BatchSize;
        if (context.Data.shape[0] != batch)
            throw new ArgumentException($"the data has {context.Data.shape[0]} points but the particles {batch}");
        var shape = new long[] { batch, settings.OuterSamples, perDraw };
        var scaled = RenyiAlpha.Scale(densities.LogWeights(detachPosterior: true, settings.KlWeight), settings.Alpha).view(shape); // a [B, M, K]
        var logPosterior = densities.TotalLogPosterior().view(shape);                                                             // [B, M, K]
        var bound = ImportanceWeightedBound.FromScaledLogWeights(scaled, settings.Alpha);                                       // [B, M]

        var network = Build(context.Data.flatten(1).shape[1], densities.LogLikelihood.dtype);
        var controlVariate = network.forward(context.Data).view(batch, 1, 1);                   // b_ψ(x) [B, 1, 1], reaches ψ
        Tensor signal, residual;
        using (no_grad())
        {
            signal = new LearningSignal(scaled.detach(), settings.Alpha).Signal;                 // d [B, M, K]
            residual = signal - controlVariate.detach();                                         // d − c [B, M, K]
        }
        var phiTerm = -(residual * logPosterior).sum(-1);                                        // T_φ [B, M]
        var fit = (controlVariate - signal).square().mean(new long[] { -1, -2 });                // T_cv [B], reaches ψ only
        var loss = (phiTerm - bound).mean(new long[] { -1 }).mean() + fit.mean();
        var diagnostics = BaseDiagnostics(context, scaled, bound, densities.LogLikelihood.view(shape), (controlVariate.detach() - signal).expand(shape));
        return new EstimatorResult(loss, diagnostics);
    }
}
