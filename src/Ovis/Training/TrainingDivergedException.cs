namespace Ovis.Training;

/// <summary>
/// Training produced a non-finite number (the loss, the log-weights or a parameter): the run stops with status
/// <c>diverged</c>, keeping the metrics written so far and its last finite checkpoint.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Create the exception for <paramref name="quantity"/> at <paramref name="step"/>.</summary>
    public TrainingDivergedException(long step, string quantity, Exception? cause = null)
        : base($"training diverged at step {step}: {quantity} is not finite (NaN or ±∞); lower the learning rate or check the model", cause)
    {
        Step = step;
        Quantity = quantity;
    }

    /// <summary>The global step (before its increment) at which the non-finite value appeared.</summary>
    public long Step { get; }

    /// <summary>What was not finite, e.g. <c>the loss</c> or <c>parameter group 'model'</c>.</summary>
    public string Quantity { get; }
}
