using System.Text;

namespace Ovis.Experiments.Cluster;

/// <summary>
/// The batch script of an experiment's job array, written into the output root so that a person can read (and rerun)
/// exactly what was submitted: the <c>#SBATCH</c> options, then one <c>exec</c> of the worker command. Every array task
/// runs the same worker; which runs it trains is decided by claims on the shared store, not by the task index.
/// </summary>
public static class SlurmJobScript
{
    /// <summary>Write the script of <paramref name="experiment"/> to <paramref name="path"/> (mode 0700: it may hold the store's credentials).</summary>
    /// <param name="path">the script file.</param>
    /// <param name="experiment">the experiment's name (the job's name is <c>ovis-NAME</c>).</param>
    /// <param name="logDirectory">where each task's output goes (<c>%A_%a.out</c>).</param>
    /// <param name="options">the scheduler options.</param>
    /// <param name="worker">the worker command: program and arguments, run with <c>exec</c> so that it receives Slurm's signals itself.</param>
    public static string Write(string path, string experiment, string logDirectory, SlurmOptions options, IReadOnlyList<string> worker)
    {
        options.Validate();
        var text = new StringBuilder();
        text.AppendLine("#!/bin/bash");
        text.AppendLine($"#SBATCH --job-name=ovis-{experiment}");
        text.AppendLine($"#SBATCH --array=0-{options.ArrayTasks - 1}");
        text.AppendLine($"#SBATCH --output={Path.Combine(logDirectory, "%A_%a.out")}");
        if (options.Partition is not null) text.AppendLine($"#SBATCH --partition={options.Partition}");
        if (options.Time is not null) text.AppendLine($"#SBATCH --time={options.Time}");
        if (options.CpusPerTask is not null) text.AppendLine($"#SBATCH --cpus-per-task={options.CpusPerTask}");
        if (options.Memory is not null) text.AppendLine($"#SBATCH --mem={options.Memory}");
        foreach (var extra in options.ExtraArguments ?? Array.Empty<string>()) text.AppendLine($"#SBATCH {extra}");
        text.AppendLine();
        text.AppendLine($"# Each task claims queued runs of experiment '{experiment}' from the shared run store until none is left, with");
        text.AppendLine($"# {options.WorkersPerTask} trainer process(es) at a time. On SIGTERM (scancel, a time limit, preemption) the worker has its");
        text.AppendLine("# trainers write a checkpoint and puts their runs back in the queue; a later task, or a requeued one, resumes them.");
        text.AppendLine("exec " + string.Join(" ", worker.Select(Quote)));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Directory.CreateDirectory(logDirectory);
        File.WriteAllText(path, text.ToString());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return text.ToString();
    }

    /// <summary>A word for bash: single-quoted unless it needs no quoting.</summary>
    public static string Quote(string word)
        => word.Length > 0 && word.All(c => char.IsLetterOrDigit(c) || "/._-=:,+@%".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";
}
