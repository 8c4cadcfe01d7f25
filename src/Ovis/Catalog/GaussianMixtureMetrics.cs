using Ovis.Models;
using Ovis.Training;
using static TorchSharp.torch;

namespace Ovis.Catalog;

/// <summary>The GMM's metrics (docs/experiments.md §2.2): the posterior error and the prior error, both L2 distances.</summary>
/// <param name="model">the model measured.</param>
public sealed class GaussianMixtureMetrics(GaussianMixtureModel model) : ITrainingMetrics
{
    /// <summary>Metric key of the posterior error mean_x ‖q(·|x) − p*(·|x)‖₂.</summary>
    public const string PosteriorErrorKey = "gmm/posterior_error";

    /// <summary>Metric key of the prior error ‖softmax θ − π*‖₂.</summary>
    public const string PriorErrorKey = "gmm/prior_error";

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Measure(Tensor heldOut) => new Dictionary<string, double>
    {
        [PosteriorErrorKey] = model.PosteriorError(heldOut),
        [PriorErrorKey] = model.PriorError(),
    };
}
