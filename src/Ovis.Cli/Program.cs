using System.CommandLine;
using Ovis.Cli.Commands;
using Ovis.Runtime;

namespace Ovis.Cli;

/// <summary>The <c>ovis</c> command line: a thin layer over the library that holds no maths (docs/design.md).</summary>
public static class Program
{
    /// <summary>Entry point: apply the allocator fix before any tensor exists, then dispatch.</summary>
    public static int Main(string[] args)
    {
        OvisRuntime.Initialize();
        var root = BuildRoot();
        var parse = root.Parse(args);
        // A malformed option of a subcommand is a usage error: one line on stderr and exit code 2 (CommandRunner).
        if (parse.Errors.Count > 0 && parse.CommandResult.Command != root)
        {
            Console.Error.WriteLine($"ovis {parse.CommandResult.Command.Name}: {parse.Errors[0].Message} (see ovis {parse.CommandResult.Command.Name} --help)");
            return CommandRunner.UsageError;
        }
        return parse.Invoke();
    }

    /// <summary>The root command with every subcommand (one class per command in <c>Commands/</c>).</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Ovis: importance-weighted bounds and low-variance gradient estimators (OVIS, VIMCO, RWS, TVO, IWAE, DReG) on TorchSharp");
        root.Subcommands.Add(EstimatorsCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ExperimentCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(GradientsCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        return root;
    }
}
