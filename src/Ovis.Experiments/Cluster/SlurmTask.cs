namespace Ovis.Experiments.Cluster;

/// <summary>One task of a Slurm job as the scheduler reports it.</summary>
/// <param name="Id">the task's id, <c>JOB_TASK</c> for an array task (<c>123_4</c>).</param>
/// <param name="State">Slurm's state: PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, FAILED, TIMEOUT, PREEMPTED, …</param>
/// <param name="Reason">why it pends or how it ended (Slurm's reason), or empty.</param>
public sealed record SlurmTask(string Id, string State, string Reason)
{
    /// <summary>True while the task holds or waits for resources.</summary>
    public bool IsActive => State is "PENDING" or "RUNNING" or "COMPLETING" or "CONFIGURING" or "SUSPENDED" or "REQUEUED" or "RESIZING";
}
