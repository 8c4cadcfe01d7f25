using Ovis.Bounds;
using Ovis.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ovis.Estimators;

/// <summary>
/// <c>reinforce-baseline</c>: REINFORCE with a learned baseline c_k = b_ψ(x), the same for every k and m
/// (docs/estimators.md §3, §4.1). The surrogate adds T_cv = mean_{m,k}(b_ψ(x) − sg(d_k))² to the score-function loss
/// (w_cv = 1); ψ receives gradient only from T_cv because (d_k − c_k) is detached inside T_φ. Unbiased: b_ψ(x) does
/// not depend on z_k. The estimator owns ψ (<see cref="IEstimatorWithParameters"/>): the trainer builds it before the
/// first step, gives it an Adam optimiser of its own at <see cref="ParameterLearningRate"/> (the reference's 5e-3) and
/// checkpoints it; used on its own, the estimator builds ψ at the first call from the data's shape and the model's dtype.
/// </summary>
public sealed class ReinforceBaseline : GradientEstimator, IEstimatorWithParameters
{
    private NeuralBaseline? baseline;

    /// <summary>Create the estimator.</summary>
    /// <param name="hiddenUnits">H, the baseline's hidden width (64 in the reference).</param>
    /// <param name="learningRate">the learning rate of ψ's own Adam optimiser.</param>
    public ReinforceBaseline(int hiddenUnits = 64, double learningRate = RecommendedLearningRate) : base("reinforce-baseline")
    {
        if (hiddenUnits < 1) throw new ArgumentException($"the baseline's hidden width must be positive, got {hiddenUnits}");
        if (!(learningRate > 0) || double.IsInfinity(learningRate)) throw new ArgumentException($"the baseline's learning rate must be positive, got {learningRate}");
        HiddenUnits = hiddenUnits;
        ParameterLearningRate = learningRate;
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

    /// <inheritdoc />
    public double ParameterLearningRate { get; }

    /// <inheritdoc />
    public IReadOnlyList<Parameter> InitializeParameters(Tensor example, Generator generator)
    {
        var network = Build(example.flatten(1).shape[1], example.is_floating_point() ? example.dtype : ScalarType.Float32, example.device);
        network.Reinitialize(generator);
        return network.parameters().ToArray();
    }

    /// <summary>
    /// Build the baseline for inputs of <paramref name="inputSize"/> features in <paramref name="dtype"/> on
    /// <paramref name="device"/> (done automatically at the first call); later calls return the same network.
    /// </summary>
    public NeuralBaseline Build(long inputSize, ScalarType dtype, Device? device = null)
    {
        if (baseline is null)
        {
            baseline = new NeuralBaseline(inputSize, HiddenUnits, dtype);
            if (device is not null) baseline.to(device);
        }
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
        var scaled = ScaledLogWeights(densities, settings, detachPosterior: true, shape); // a [B, M, K]
        var logPosterior = densities.TotalLogPosterior().view(shape);                                                             // [B, M, K]
        var bound = ImportanceWeightedBound.FromScaledLogWeights(scaled, settings.Alpha);                                       // [B, M]

        var network = Build(context.Data.flatten(1).shape[1], densities.LogLikelihood.dtype, context.Data.device);
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
