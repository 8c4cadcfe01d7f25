namespace Ovis.Experiments.Cluster;

/// <summary>What a Slurm job array of experiment workers asks the scheduler for.</summary>
/// <param name="ArrayTasks">N, the array's tasks (indices 0 … N−1); each task runs one worker process.</param>
/// <param name="WorkersPerTask">trainer processes each task runs at once (<c>ovis experiment work --workers</c>).</param>
/// <param name="Partition">the partition, or null for the cluster's default.</param>
/// <param name="Time">the time limit per task in Slurm's syntax (e.g. <c>04:00:00</c>), or null.</param>
/// <param name="CpusPerTask">CPUs per task, or null.</param>
/// <param name="Memory">memory per node in Slurm's syntax (e.g. <c>4G</c>), or null.</param>
/// <param name="ExtraArguments">further <c>sbatch</c> options, each written as one <c>#SBATCH</c> line (e.g. <c>--account=x</c>, <c>--signal=B:TERM@120</c>).</param>
public sealed record SlurmOptions(int ArrayTasks, int WorkersPerTask = 1, string? Partition = null, string? Time = null, int? CpusPerTask = null,
                                  string? Memory = null, IReadOnlyList<string>? ExtraArguments = null)
{
    /// <summary>Throw a clear error for values Slurm would refuse or misread.</summary>
    public void Validate()
    {
        if (ArrayTasks < 1) throw new ArgumentException($"--array must be at least 1, got {ArrayTasks}");
        if (WorkersPerTask < 1) throw new ArgumentException($"--workers must be at least 1, got {WorkersPerTask}");
        if (CpusPerTask is < 1) throw new ArgumentException($"--cpus-per-task must be at least 1, got {CpusPerTask}");
        foreach (var extra in ExtraArguments ?? Array.Empty<string>())
            if (!extra.StartsWith('-') || extra.Contains('\n'))
                throw new ArgumentException($"--sbatch-arg takes one sbatch option per use, such as --account=lab, got '{extra}'");
    }
}
