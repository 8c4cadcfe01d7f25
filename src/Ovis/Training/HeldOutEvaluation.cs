using Ovis.Estimators;
using Ovis.Evaluation;
using Ovis.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ovis.Training;

/// <summary>
/// The trainer's evaluations (docs/experiments.md §1.5 items 4–5): L_K at K = eval-iw and α = 0, with the ELBO,
/// KL(q‖p(z|x)) = L_K − ELBO, the ESS and the NLL from the same particles, on fixed held-out points and, for data
/// with a training split, on a fixed training subset; and the final evaluation at final-eval-iw particles. Points and
/// particle noise come from generators reset to the same seed at every evaluation, so two evaluations differ only
/// through the model. Particles are drawn in chunks (<see cref="LikelihoodEvaluator"/>), so memory stays bounded at
/// any K.
/// </summary>
internal sealed class HeldOutEvaluation : IDisposable
{
    private readonly TrainingTask task;
    private readonly TrainerSettings settings;
    private readonly Tensor? trainingSubset;    // [N_train_eval, ...]

    /// <summary>Draw the fixed held-out points and, where the data have a training split, the fixed training subset.</summary>
    public HeldOutEvaluation(TrainingTask task, TrainerSettings settings)
    {
        this.task = task;
        this.settings = settings;
        using (var generator = RandomStreams.Create(settings.Seed, RandomStreams.HeldOut))
            HeldOut = task.Data.HeldOutBatch(settings.EvaluationBatchSize, generator).DetachFromDisposeScope();
        if (task.Data.HasTrainingSplit && settings.TrainEvaluationPoints > 0)
            using (var generator = RandomStreams.Create(settings.Seed, RandomStreams.TrainingSubset))
                trainingSubset = task.Data.TrainingSubset(settings.TrainEvaluationPoints, generator).DetachFromDisposeScope();
    }

    /// <summary>The fixed held-out (test) points, [N_eval, ...].</summary>
    public Tensor HeldOut { get; }

    /// <summary>True when records carry <c>train:</c> evaluations of a training subset.</summary>
    public bool EvaluatesTrainingSubset => trainingSubset is not null;

    /// <summary>The diagnostics each evaluation reports, without prefix.</summary>
    public static readonly IReadOnlyList<string> Keys = new[] { DiagnosticKeys.Bound, DiagnosticKeys.Elbo, DiagnosticKeys.NegativeLogLikelihood,
                                                                DiagnosticKeys.Kl, DiagnosticKeys.KlPosterior, DiagnosticKeys.EffectiveSampleSize };

    /// <summary>One record's evaluations: <c>test:</c> keys and, with a training subset, <c>train:</c> keys.</summary>
    public Dictionary<string, double> Evaluate()
    {
        var record = new Dictionary<string, double>();
        foreach (var (key, value) in Evaluate(HeldOut, settings.EvaluationParticles, RandomStreams.Evaluation)) record["test:" + key] = value;
        if (trainingSubset is not null)
            foreach (var (key, value) in Evaluate(trainingSubset, settings.EvaluationParticles, RandomStreams.Evaluation + 1)) record["train:" + key] = value;
        return record;
    }

    private Dictionary<string, double> Evaluate(Tensor data, int particles, ulong stream)
    {
        using var scope = NewDisposeScope();
        using var generator = RandomStreams.Create(settings.Seed, stream);
        var estimate = Evaluator(particles).Evaluate(task.Model, data, generator);
        return new Dictionary<string, double>
        {
            [DiagnosticKeys.Bound] = estimate.MeanBound,
            [DiagnosticKeys.Elbo] = estimate.MeanElbo,
            [DiagnosticKeys.NegativeLogLikelihood] = estimate.NegativeLogLikelihood.Average(),
            [DiagnosticKeys.Kl] = estimate.MeanPriorDivergence,
            [DiagnosticKeys.KlPosterior] = estimate.MeanPosteriorDivergence,
            [DiagnosticKeys.EffectiveSampleSize] = estimate.MeanEffectiveSampleSize,
        };
    }

    /// <summary>
    /// The final test evaluation for summary.json (docs/experiments.md §1.5 item 5, K_test = 5000 in the paper): L_K
    /// at final-eval-iw particles on final-eval-points fixed held-out points, with its standard error over the points;
    /// null when final-eval-iw is 0.
    /// </summary>
    public Dictionary<string, double>? Final()
    {
        if (settings.FinalEvaluationParticles == 0) return null;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor points;
        using (var pointsGenerator = RandomStreams.Create(settings.Seed, RandomStreams.Final))
            points = task.Data.HeldOutBatch(settings.FinalEvaluationPoints, pointsGenerator);
        using var generator = RandomStreams.Create(settings.Seed, RandomStreams.Final + 1);
        var estimate = Evaluator(settings.FinalEvaluationParticles).Evaluate(task.Model, points, generator);
        return new Dictionary<string, double>
        {
            ["particles"] = estimate.Particles,
            ["points"] = estimate.Count,
            ["test:" + DiagnosticKeys.Bound] = estimate.MeanBound,
            ["test:" + DiagnosticKeys.Bound + "_stderr"] = estimate.BoundStandardError,
            ["test:" + DiagnosticKeys.Elbo] = estimate.MeanElbo,
            ["test:" + DiagnosticKeys.KlPosterior] = estimate.MeanPosteriorDivergence,
            ["test:" + DiagnosticKeys.EffectiveSampleSize] = estimate.MeanEffectiveSampleSize,
        };
    }

    private LikelihoodEvaluator Evaluator(int particles) => new(particles, settings.EvaluationChunk, settings.EvaluationPointsPerPass);

    /// <inheritdoc />
    public void Dispose()
    {
        HeldOut.Dispose();
        trainingSubset?.Dispose();
    }
}
