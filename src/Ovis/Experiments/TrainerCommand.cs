using System.Text;

namespace Ovis.Experiments;

/// <summary>
/// How a run's trainer is started: a program and the leading arguments, to which the runner appends the run's
/// <c>--name value</c> arguments and <c>--out DIR</c>. The default is <c>dotnet Ovis.Cli.dll train</c>; the environment
/// variable <see cref="EnvironmentVariable"/> replaces all of it (a shell-like word list, e.g.
/// <c>bash /path/fake-trainer.sh</c>), which is how tests substitute a fake trainer.
/// </summary>
/// <param name="Program">the executable.</param>
/// <param name="Prefix">arguments placed before the run's own.</param>
public sealed record TrainerCommand(string Program, IReadOnlyList<string> Prefix)
{
    /// <summary>The environment variable that overrides the trainer command.</summary>
    public const string EnvironmentVariable = "OVIS_TRAIN_COMMAND";

    /// <summary>The full argument list for one run.</summary>
    public IReadOnlyList<string> Arguments(RunDefinition run, string outDir)
        => Prefix.Concat(run.CommandLine()).Concat(new[] { "--out", outDir }).ToArray();

    /// <summary>The command as one line (for logs).</summary>
    public override string ToString() => string.Join(" ", new[] { Program }.Concat(Prefix).Select(Quote));

    /// <summary>
    /// The command for <c>ovis train</c> from the CLI assembly at <paramref name="cliAssembly"/>, run by the same
    /// <c>dotnet</c> host as the current process, unless <see cref="EnvironmentVariable"/> or <paramref name="overrideCommand"/> says otherwise.
    /// </summary>
    public static TrainerCommand Resolve(string cliAssembly, string? overrideCommand = null)
    {
        overrideCommand ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(overrideCommand)) return Parse(overrideCommand);
        if (!File.Exists(cliAssembly))
            throw new FileNotFoundException($"the trainer '{cliAssembly}' does not exist; set {EnvironmentVariable} to the command that runs 'ovis train'");
        return new TrainerCommand(DotnetHost(), new[] { cliAssembly, "train" });
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

    /// <summary>The dotnet host running this process (so the child uses the same runtime), else <c>dotnet</c> from PATH.</summary>
    private static string DotnetHost()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk)) return fromSdk;
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return current;
        return "dotnet";
    }

    private static string Quote(string word) => word.Length > 0 && !word.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? word : $"'{word}'";
}
