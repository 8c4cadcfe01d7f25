using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ovis.Experiments;

/// <summary>One argument of a run: a name (an <c>ovis train</c> option without its dashes) and a scalar JSON value.</summary>
/// <param name="Name">the option name, e.g. <c>iw</c> for <c>--iw</c>.</param>
/// <param name="Value">the value as the trainer receives it: a string, the number's JSON text, or <c>true</c>/<c>false</c>.</param>
/// <param name="Kind">the JSON kind of the value (String, Number, True or False).</param>
public sealed record RunArgument(string Name, string Value, JsonValueKind Kind)
{
    /// <summary>The value as canonical JSON (a quoted string, or the raw number / boolean text).</summary>
    public string ToJson() => Kind == JsonValueKind.String ? JsonSerializer.Serialize(Value) : Value;

    /// <summary>The value as a double when it is a number, else null (used to sort report columns such as K).</summary>
    public double? AsNumber()
        => Kind == JsonValueKind.Number && double.TryParse(Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
}

/// <summary>
/// One point of an experiment grid (docs/experiments.md §0: the Cartesian product of the parameter lists, with the global
/// arguments and one estimator argument set): the ordered arguments passed to <c>ovis train</c>, and a key that
/// identifies the run independently of argument order, so the same spec enqueued twice does not duplicate runs.
/// </summary>
public sealed class RunDefinition
{
    private readonly RunArgument[] arguments;

    /// <summary>Create a run from its ordered arguments; names must be distinct.</summary>
    public RunDefinition(IEnumerable<RunArgument> arguments)
    {
        this.arguments = arguments.ToArray();
        var duplicate = this.arguments.GroupBy(a => a.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"run argument '{duplicate.Key}' is given twice");
        CanonicalJson = "{" + string.Join(",", this.arguments.OrderBy(a => a.Name, StringComparer.Ordinal)
            .Select(a => JsonSerializer.Serialize(a.Name) + ":" + a.ToJson())) + "}";
        Key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson))).ToLowerInvariant();
    }

    /// <summary>The arguments in spec order (global, then parameters, then estimator arguments; overrides keep the first position).</summary>
    public IReadOnlyList<RunArgument> Arguments => arguments;

    /// <summary>The arguments as a JSON object with keys sorted, the input of <see cref="Key"/>.</summary>
    public string CanonicalJson { get; }

    /// <summary>SHA-256 (hex) of <see cref="CanonicalJson"/>: the run's identity within its experiment.</summary>
    public string Key { get; }

    /// <summary>The value of an argument, or null when the run does not set it.</summary>
    public string? Get(string name) => arguments.FirstOrDefault(a => a.Name == name)?.Value;

    /// <summary>The argument with that name, or null.</summary>
    public RunArgument? Find(string name) => arguments.FirstOrDefault(a => a.Name == name);

    /// <summary>The trainer's command-line arguments: <c>--name value</c> for every argument, in order.</summary>
    public IReadOnlyList<string> CommandLine() => arguments.SelectMany(a => new[] { "--" + a.Name, a.Value }).ToArray();

    /// <summary>A short human-readable description such as <c>estimator=reinforce iw=2 seed=1</c>.</summary>
    public string Describe(IEnumerable<string>? only = null)
    {
        var names = only?.ToHashSet();
        return string.Join(" ", arguments.Where(a => names is null || names.Contains(a.Name)).Select(a => $"{a.Name}={a.Value}"));
    }

    /// <summary>Parse the JSON object written by <see cref="ToJson"/> (or any flat JSON object of scalars).</summary>
    public static RunDefinition FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"run arguments must be a JSON object, got {document.RootElement.ValueKind}");
        return new RunDefinition(document.RootElement.EnumerateObject().Select(p => ToArgument(p.Name, p.Value)));
    }

    /// <summary>The arguments as a JSON object in spec order (stored with the run).</summary>
    public string ToJson() => "{" + string.Join(",", arguments.Select(a => JsonSerializer.Serialize(a.Name) + ":" + a.ToJson())) + "}";

    /// <summary>Convert a scalar JSON element into an argument; arrays, objects and null are rejected.</summary>
    internal static RunArgument ToArgument(string name, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => new RunArgument(name, value.GetString()!, JsonValueKind.String),
        JsonValueKind.Number => new RunArgument(name, value.GetRawText(), JsonValueKind.Number),
        JsonValueKind.True => new RunArgument(name, "true", JsonValueKind.True),
        JsonValueKind.False => new RunArgument(name, "false", JsonValueKind.False),
        _ => throw new InvalidDataException($"'{name}' must be a single value (string, number or true/false), got {value.GetRawText()}"),
    };
}
