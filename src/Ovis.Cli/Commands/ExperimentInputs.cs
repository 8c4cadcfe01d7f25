using System.CommandLine;
using System.Runtime.InteropServices;
using Ovis.Experiments;

namespace Ovis.Cli.Commands;

/// <summary>
/// What the <c>ovis experiment</c> subcommands share: the spec argument and the store and output options, opening the
/// store, the checks a grid passes before any run starts, and the stop signals of a worker.
/// </summary>
public static class ExperimentInputs
{
    /// <summary>The spec argument.</summary>
    public static Argument<string> Spec() => new("spec") { Description = "the experiment spec (JSON)" };

    /// <summary>The <c>--store</c> option.</summary>
    public static Option<string?> Store() => new("--store")
    {
        Description = "the run store: an SQLite file (default: <spec dir>/<name>.sqlite) or a PostgreSQL connection string 'Host=…;Username=…;Database=…' shared by runners on several machines",
    };

    /// <summary>The <c>--out</c> option, the experiment's output root.</summary>
    public static Option<string?> Out() => new("--out") { Description = "output root; each run writes to <out>/<first 12 hex digits of its key> (default: runs/<name>)" };

    /// <summary>The output root: <paramref name="given"/> or <c>runs/NAME</c>, absolute.</summary>
    public static string OutRoot(ExperimentSpec spec, string? given) => Path.GetFullPath(given ?? Path.Combine("runs", spec.Name));

    /// <summary>Load a spec.</summary>
    public static ExperimentSpec Load(string path) => ExperimentSpec.Load(path);

    /// <summary>The default store of a spec: <c>&lt;spec dir&gt;/&lt;name&gt;.sqlite</c>.</summary>
    public static string DefaultStorePath(ExperimentSpec spec)
        => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(spec.Source)) ?? ".", spec.Name + ".sqlite");

    /// <summary>Open a store for writing: a PostgreSQL connection string, or an SQLite file created if needed.</summary>
    public static IRunStore Open(string store)
        => PostgresRunStore.IsConnectionString(store) ? new PostgresRunStore(store) : new SqliteRunStore(store);

    /// <summary>Open the spec's store (the given one or its default).</summary>
    public static IRunStore Open(ExperimentSpec spec, string? store) => Open(store ?? DefaultStorePath(spec));

    /// <summary>Open a store that must already exist (status and report do not create one).</summary>
    public static IRunStore OpenExisting(string store)
    {
        if (!PostgresRunStore.IsConnectionString(store) && !File.Exists(store))
            throw new FileNotFoundException($"run store '{store}' does not exist; run 'ovis experiment run SPEC' first");
        return Open(store);
    }

    /// <summary>
    /// Check every run of the grid the way <c>ovis train --check</c> would, before anything is enqueued or started: one
    /// error naming the refused runs (up to ten) and why.
    /// </summary>
    public static void CheckGrid(ExperimentSpec spec, IReadOnlyList<RunDefinition> grid)
    {
        var describe = ExperimentRunner.VaryingArguments(grid);
        var problems = new List<string>();
        int refused = 0;
        foreach (var run in grid)
        {
            if (TrainCommand.Check(run.CommandLine()) is not { } problem) continue;
            refused++;
            if (problems.Count < 10) problems.Add($"  run [{run.Describe(describe)}]: {problem}");
        }
        if (refused > 0)
            throw new ArgumentException($"{spec.Source}: {refused} of {grid.Count} runs would be refused by ovis train, so nothing was started:\n"
                                        + string.Join("\n", problems) + (refused > problems.Count ? $"\n  … and {refused - problems.Count} more" : ""));
    }

    /// <summary>
    /// Refuse a spec changed after its runs were enqueued: runs in the store that the spec no longer produces (their
    /// arguments changed or were removed) are named, unless <paramref name="prune"/> drops the ones not completed or
    /// running. Runs added to a grid (more seeds, another K) are fine.
    /// </summary>
    public static void CheckUnchanged(IRunStore store, ExperimentSpec spec, IReadOnlyList<RunDefinition> grid, bool prune)
    {
        var keys = grid.Select(r => r.Key).ToHashSet();
        var stale = store.List(spec.Name).Where(r => !keys.Contains(r.Key)).ToArray();
        if (stale.Length == 0) return;
        var describe = ExperimentRunner.VaryingArguments(stale.Select(r => r.Definition).Concat(grid).ToArray());
        if (prune)
        {
            int removed = store.Remove(spec.Name, stale.Where(r => r.Status is RunStatus.Queued or RunStatus.Failed).Select(r => r.Id).ToArray());
            Console.WriteLine($"{spec.Name}: removed {removed} queued or failed runs the spec no longer has");
            return;
        }
        var list = string.Join("\n", stale.Take(10).Select(r => $"  run {r.Id} ({r.Status.ToString().ToLowerInvariant()}) [{r.Definition.Describe(describe)}]"));
        throw new ArgumentException($"{spec.Source} changed after its runs were enqueued in {store.Location}: {stale.Length} stored run(s) are not in its grid any more:\n{list}"
                                    + (stale.Length > 10 ? $"\n  … and {stale.Length - 10} more" : "")
                                    + "\nRestore the spec, give it another name, or pass --prune to remove the stored runs it no longer has (completed and running ones are kept)");
    }

    /// <summary>
    /// A cancellation that fires on SIGTERM (what Slurm sends at a time limit, preemption or scancel) and on Ctrl-C:
    /// the worker then has its trainers checkpoint and requeues their runs.
    /// </summary>
    public static (CancellationTokenSource Cancellation, IDisposable Registrations) StopSignals()
    {
        var cancellation = new CancellationTokenSource();
        var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; cancellation.Cancel(); });
        var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; cancellation.Cancel(); });
        return (cancellation, new Registrations(terminate, interrupt));
    }

    private sealed class Registrations(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items) item.Dispose();
        }
    }
}
