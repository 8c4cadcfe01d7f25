namespace Ovis.Tests.Cli;

/// <summary>Runs the ovis command in-process with captured standard output and error.</summary>
internal static class CliRunner
{
    private static readonly object Gate = new();

    public static (int exitCode, string stdout, string stderr) Run(params string[] args)
    {
        lock (Gate)
        {
            var (oldOut, oldError) = (Console.Out, Console.Error);
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            Console.SetOut(stdout);
            Console.SetError(stderr);
            try
            {
                int code = Ovis.Cli.Program.Main(args);
                return (code, stdout.ToString(), stderr.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldError);
            }
        }
    }
}
