using System.Diagnostics;
namespace Ovis.Cli.Commands;

/// <summary>
/// Runs a command's body and turns the errors a user can cause into one line on stderr and a non-zero exit code,
/// never a stack trace (docs/design.md, Conventions).
/// </summary>
public static class CommandRunner
{
    /// <summary>Exit code for a usage or input error.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for a failure while running.</summary>
    public const int RunError = 1;

    /// <summary>Run <paramref name="body"/>, mapping user errors to exit code 2 and other failures to 1.</summary>
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or NotSupportedException or FileNotFoundException
                                      or DirectoryNotFoundException or InvalidDataException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"ovis: {e.Message}");
            return UsageError;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"ovis: {e.Message}");
            return RunError;
        }
    }

    /// <summary>Parse a comma-separated list of integers such as <c>2,3,4</c>, with a clear error naming the option.</summary>
    public static int[] ParseIntegers(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException($"{option} needs at least one whole number, e.g. {option} 2,3,4");
        return parts.Select(p => int.TryParse(p, out var v) && v > 0 ? v
            : throw new ArgumentException($"{option}: '{p}' is not a positive whole number")).ToArray();
    }

    /// <summary>Parse a comma-separated list of numbers such as <c>0,0.5</c>.</summary>
    public static double[] ParseNumbers(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException($"{option} needs at least one number");
        return parts.Select(p => double.TryParse(p, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"{option}: '{p}' is not a number")).ToArray();
    }

    /// <summary>
    /// This same program as a command: the apphost, or the <c>dotnet</c> host followed by this assembly, then
    /// <paramref name="arguments"/>.
    /// </summary>
    public static (string program, IReadOnlyList<string> arguments) Self(params string[] arguments)
    {
        var program = Environment.ProcessPath!;
        var leading = Path.GetFileNameWithoutExtension(program) == "dotnet" ? new[] { typeof(CommandRunner).Assembly.Location } : Array.Empty<string>();
        return (program, leading.Concat(arguments).ToArray());
    }

    /// <summary>
    /// Start this same program with <paramref name="arguments"/>, e.g. a benchmark configuration or a shard of a study
    /// in a process of its own; output is captured when <paramref name="redirect"/> is set, else shared with this console.
    /// </summary>
    public static Process StartSelf(IEnumerable<string> arguments, bool redirect)
    {
        var (program, all) = Self(arguments.ToArray());
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = redirect,
            RedirectStandardError = redirect,
        };
        foreach (var argument in all) start.ArgumentList.Add(argument);
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
    }
}
