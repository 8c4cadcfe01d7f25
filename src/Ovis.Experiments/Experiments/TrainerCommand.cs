using System.Text;

namespace Ovis.Experiments;

/// <summary>
/// How a run's trainer is started: a program and the leading arguments, to which the runner appends the run's
/// <c>--name value</c> arguments and <c>--out DIR</c>. The host that runs the grid (the command line) supplies its
/// own default, e.g. its own <c>train</c> command; the environment variable <see cref="EnvironmentVariable"/> replaces
/// all of it (a shell-like word list, e.g. <c>bash /path/fake-trainer.sh</c>), which is how tests substitute a fake
/// trainer.
/// </summary>
/// <param name="Program">the executable.</param>
/// <param name="Prefix">arguments placed before the run's own.</param>
public sealed record TrainerCommand(string Program, IReadOnlyList<string> Prefix)
{
    /// <summary>The environment variable that overrides the trainer command.</summary>
    public const string EnvironmentVariable = "OVIS_TRAIN_COMMAND";

    /// <summary>The full argument list for one run: its own arguments and <c>--out DIR</c>.</summary>
    public IReadOnlyList<string> Arguments(RunDefinition run, string outDir)
        => Prefix.Concat(run.CommandLine()).Concat(new[] { "--out", outDir }).ToArray();

    /// <summary>The argument list that continues the run in <paramref name="outDir"/> from its checkpoint: <c>--resume --out DIR</c>.</summary>
    public IReadOnlyList<string> ResumeArguments(string outDir) => Prefix.Concat(new[] { "--resume", "--out", outDir }).ToArray();

    /// <summary>The trainer's exit code for a run stopped on request with a checkpoint to resume from (sysexits' EX_TEMPFAIL).</summary>
    public const int StoppedExitCode = 75;

    /// <summary>The trainer's exit code for a run whose loss, log-weights or parameters became non-finite.</summary>
    public const int DivergedExitCode = 4;

    /// <summary>
    /// The trainer's exit code for an error raised inside libtorch (sysexits' EX_SOFTWARE). It can be transient: a
    /// TorchSharp scalar freed by the finaliser during the native call that reads it (docs/platform.md §5.5) stopped a
    /// grid run after 5,000 of 20,000 steps. The runner resumes such a run from its checkpoint, a bounded number of times.
    /// </summary>
    public const int NativeErrorExitCode = 70;

    /// <summary>The command as one line (for logs).</summary>
    public override string ToString() => string.Join(" ", new[] { Program }.Concat(Prefix).Select(Quote));

    /// <summary>
    /// The trainer command: <paramref name="overrideCommand"/> if given, else <see cref="EnvironmentVariable"/> if set,
    /// else the host's <paramref name="hostDefault"/>. A program that is neither an existing file nor found on PATH is
    /// refused here, before any run starts.
    /// </summary>
    public static TrainerCommand Resolve(TrainerCommand hostDefault, string? overrideCommand = null)
    {
        overrideCommand ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        var command = string.IsNullOrWhiteSpace(overrideCommand) ? hostDefault : Parse(overrideCommand);
        if (!ProgramExists(command.Program))
            throw new FileNotFoundException($"the trainer program '{command.Program}' does not exist and is not on PATH; give --trainer (or {EnvironmentVariable}) the command that runs 'ovis train'");
        return command;
    }

    /// <summary>True when <paramref name="program"/> is a file, or a bare name found in a folder of PATH.</summary>
    public static bool ProgramExists(string program)
    {
        if (program.Contains(Path.DirectorySeparatorChar) || program.Contains(Path.AltDirectorySeparatorChar)) return File.Exists(program);
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Any(folder => File.Exists(Path.Combine(folder, program)));
    }

    /// <summary>Split a command line into words: whitespace separates, single or double quotes group, backslash escapes.</summary>
    public static TrainerCommand Parse(string commandLine)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < commandLine.Length; i++)
        {
            char c = commandLine[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else if (c == '\\' && quote == '"' && i + 1 < commandLine.Length) word.Append(commandLine[++i]);
                else word.Append(c);
            }
            else if (c is '"' or '\'') { quote = c; inWord = true; }
            else if (c == '\\' && i + 1 < commandLine.Length) { word.Append(commandLine[++i]); inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else { word.Append(c); inWord = true; }
        }
        if (quote != '\0') throw new ArgumentException($"{EnvironmentVariable}: unterminated quote in '{commandLine}'");
        if (inWord) words.Add(word.ToString());
        if (words.Count == 0) throw new ArgumentException($"{EnvironmentVariable} is empty; give the command that runs 'ovis train'");
        return new TrainerCommand(words[0], words.Skip(1).ToArray());
    }

    private static string Quote(string word) => word.Length > 0 && !word.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? word : $"'{word}'";
}
