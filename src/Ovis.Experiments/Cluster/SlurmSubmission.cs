namespace Ovis.Experiments.Cluster;

/// <summary>A job array submitted for an experiment, as recorded in the output root.</summary>
/// <param name="Experiment">the experiment's name.</param>
/// <param name="JobId">Slurm's job id of the array.</param>
/// <param name="Tasks">the array's task count.</param>
/// <param name="Submitted">when it was submitted (UTC).</param>
/// <param name="Script">the batch script submitted.</param>
public sealed record SlurmSubmission(string Experiment, string JobId, int Tasks, DateTime Submitted, string Script);
