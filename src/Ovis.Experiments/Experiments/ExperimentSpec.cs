using System.Text.Json;
using System.Text.RegularExpressions;
using Ovis.Estimators;

namespace Ovis.Experiments;

/// <summary>
/// An experiment grid read from JSON (docs/experiments.md §0, the format of the reference's experiment files):
/// <code>
/// { "name": "gmm", "description": "...",
///   "global": { "steps": 100000, "batch-size": 100 },
///   "parameters": { "seed": [1, 2], "iw": [2, 5, 10, 20] },
///   "estimators": [ { "estimator": "ovis-gamma1" }, { "estimator": "vimco-arithmetic" } ] }
/// </code>
/// The runs are the Cartesian product of the parameter lists times the estimator argument sets, each on top of the
/// global arguments. Later levels override earlier ones: estimator arguments override parameters, which override
/// global arguments (as later flags win in the reference's argparse command lines).
/// </summary>
public sealed class ExperimentSpec
{
    /// <summary>The top-level fields a spec may have.</summary>
    public static readonly IReadOnlyList<string> Fields = new[] { "name", "description", "global", "parameters", "estimators" };

    /// <summary>Argument names the runner sets itself and a spec may not use.</summary>
    public static readonly IReadOnlyList<string> ReservedArguments = new[] { "out" };

    /// <summary>The argument that names the gradient estimator of a run.</summary>
    public const string EstimatorArgument = "estimator";

    private static readonly Regex NamePattern = new("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant);
    private static readonly Regex ArgumentPattern = new("^[A-Za-z][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant);

    private ExperimentSpec(string source, string name, string description, IReadOnlyList<RunArgument> global,
        IReadOnlyList<KeyValuePair<string, IReadOnlyList<RunArgument>>> parameters, IReadOnlyList<IReadOnlyList<RunArgument>> estimators)
    {
        Source = source;
        Name = name;
        Description = description;
        Global = global;
        Parameters = parameters;
        Estimators = estimators;
    }

    /// <summary>Where the spec came from (a file path), used in error messages.</summary>
    public string Source { get; }

    /// <summary>The experiment's name: the run store's key and the default file names.</summary>
    public string Name { get; }

    /// <summary>Free text: what the grid is for and why its values were chosen.</summary>
    public string Description { get; }

    /// <summary>Arguments shared by every run.</summary>
    public IReadOnlyList<RunArgument> Global { get; }

    /// <summary>The grid axes, in spec order: each argument name with its list of values.</summary>
    public IReadOnlyList<KeyValuePair<string, IReadOnlyList<RunArgument>>> Parameters { get; }

    /// <summary>The estimator argument sets (at least one; an absent <c>estimators</c> field means one empty set).</summary>
    public IReadOnlyList<IReadOnlyList<RunArgument>> Estimators { get; }

    /// <summary>
    /// Read and validate a spec file. Every estimator id is checked with <paramref name="validateEstimator"/>
    /// (default: <see cref="EstimatorRegistry.Create"/>), which throws <see cref="ArgumentException"/> for a bad id.
    /// Errors are <see cref="InvalidDataException"/>s naming the file and the field, e.g.
    /// <c>experiments/gmm.json: parameters.iw must be a list of values, got 5</c>.
    /// </summary>
    public static ExperimentSpec Load(string path, Action<string>? validateEstimator = null)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"experiment spec '{path}' is a folder; give the spec's JSON file, e.g. {Path.Combine(path, "gmm.json")}");
        if (!File.Exists(path)) throw new FileNotFoundException($"experiment spec '{path}' does not exist");
        return Parse(File.ReadAllText(path), path, Path.GetFileNameWithoutExtension(path), validateEstimator);
    }

    /// <summary>Validate estimator ids against the registry (the default of <see cref="Load"/>).</summary>
    public static void RegistryValidator(string id) => EstimatorRegistry.Create(id);

    /// <summary>Parse and validate spec text; <paramref name="source"/> prefixes every error message.</summary>
    public static ExperimentSpec Parse(string json, string source, string defaultName, Action<string>? validateEstimator = null)
    {
        validateEstimator ??= RegistryValidator;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Error(source, $"the spec must be a JSON object with fields {string.Join(", ", Fields)}, got {Kind(root)}");
            var fields = Properties(root, source, "the spec");
            foreach (var field in fields.Keys.Where(k => !Fields.Contains(k)))
                throw Error(source, $"unknown field '{field}'; allowed fields are {string.Join(", ", Fields)}");

            var name = defaultName;
            if (fields.TryGetValue("name", out var nameElement))
            {
                if (nameElement.ValueKind != JsonValueKind.String) throw Error(source, $"name must be a string, got {nameElement.GetRawText()}");
                name = nameElement.GetString()!;
            }
            if (!NamePattern.IsMatch(name))
                throw Error(source, $"name '{name}' must be letters, digits, '.', '_' or '-' (it names the run store file)");

            var description = "";
            if (fields.TryGetValue("description", out var descriptionElement))
            {
                if (descriptionElement.ValueKind != JsonValueKind.String) throw Error(source, $"description must be a string, got {descriptionElement.GetRawText()}");
                description = descriptionElement.GetString()!;
            }

            var global = fields.TryGetValue("global", out var globalElement) ? ArgumentSet(globalElement, source, "global") : Array.Empty<RunArgument>();
            var parameters = fields.TryGetValue("parameters", out var parametersElement) ? ParameterLists(parametersElement, source) : new();
            var estimators = fields.TryGetValue("estimators", out var estimatorsElement) ? EstimatorSets(estimatorsElement, source) : new() { Array.Empty<RunArgument>() };

            ValidateEstimators(source, global, parameters, estimators, validateEstimator);
            return new ExperimentSpec(source, name, description, global, parameters, estimators);
        }
    }

    /// <summary>
    /// The grid: every combination of one value per parameter (the first parameter varies slowest) times every
    /// estimator argument set (varies fastest), on top of the global arguments; later levels override earlier ones.
    /// </summary>
    public IReadOnlyList<RunDefinition> Expand()
    {
        var runs = new List<RunDefinition>();
        var combination = new RunArgument[Parameters.Count];
        void Recurse(int depth)
        {
            if (depth == Parameters.Count)
            {
                foreach (var estimator in Estimators) runs.Add(new RunDefinition(Merge(Global, combination, estimator)));
                return;
            }
            foreach (var value in Parameters[depth].Value)
            {
                combination[depth] = value;
                Recurse(depth + 1);
            }
        }
        Recurse(0);
        return runs;
    }

    /// <summary>Merge argument levels: a later value replaces an earlier one in the earlier one's position.</summary>
    private static IEnumerable<RunArgument> Merge(params IEnumerable<RunArgument>[] levels)
    {
        var merged = new List<RunArgument>();
        foreach (var argument in levels.SelectMany(l => l))
        {
            int index = merged.FindIndex(a => a.Name == argument.Name);
            if (index >= 0) merged[index] = argument;
            else merged.Add(argument);
        }
        return merged;
    }

    private static void ValidateEstimators(string source, IReadOnlyList<RunArgument> global,
        List<KeyValuePair<string, IReadOnlyList<RunArgument>>> parameters, List<IReadOnlyList<RunArgument>> estimators, Action<string> validate)
    {
        void Check(RunArgument argument, string field)
        {
            if (argument.Kind != JsonValueKind.String) throw Error(source, $"{field} must be an estimator id string, got {argument.ToJson()}");
            try { validate(argument.Value); }
            catch (ArgumentException e) { throw Error(source, $"{field}: {e.Message}"); }
        }
        var fromGlobal = global.FirstOrDefault(a => a.Name == EstimatorArgument);
        if (fromGlobal is not null) Check(fromGlobal, $"global.{EstimatorArgument}");
        var fromParameters = parameters.FirstOrDefault(p => p.Key == EstimatorArgument).Value;
        if (fromParameters is not null)
            for (int i = 0; i < fromParameters.Count; i++) Check(fromParameters[i], $"parameters.{EstimatorArgument}[{i}]");
        for (int i = 0; i < estimators.Count; i++)
        {
            var own = estimators[i].FirstOrDefault(a => a.Name == EstimatorArgument);
            if (own is not null) Check(own, $"estimators[{i}].{EstimatorArgument}");
            else if (fromGlobal is null && fromParameters is null)
                throw Error(source, $"estimators[{i}] has no \"{EstimatorArgument}\" and neither global nor parameters set one; every run needs an estimator id such as \"ovis-gamma1\"");
        }
    }

    private static List<KeyValuePair<string, IReadOnlyList<RunArgument>>> ParameterLists(JsonElement element, string source)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Error(source, $"parameters must be an object mapping argument names to lists of values, got {element.GetRawText()}");
        var lists = new List<KeyValuePair<string, IReadOnlyList<RunArgument>>>();
        foreach (var (name, value) in Properties(element, source, "parameters"))
        {
            var field = $"parameters.{name}";
            CheckArgumentName(name, source, field);
            if (value.ValueKind != JsonValueKind.Array) throw Error(source, $"{field} must be a list of values, got {value.GetRawText()}");
            if (value.GetArrayLength() == 0) throw Error(source, $"{field} is an empty list, so the grid would have no runs; give at least one value");
            var values = new List<RunArgument>();
            int index = 0;
            foreach (var item in value.EnumerateArray())
            {
                var argument = Scalar(name, item, source, $"{field}[{index++}]");
                var same = values.FirstOrDefault(v => v.ToJson() == argument.ToJson() || (v.AsNumber() is { } a && argument.AsNumber() is { } b && a == b));
                if (same is not null)
                    throw Error(source, same.ToJson() == argument.ToJson() ? $"{field} lists {argument.ToJson()} twice"
                                                                            : $"{field} lists the same value twice, as {same.ToJson()} and {argument.ToJson()}");
                values.Add(argument);
            }
            lists.Add(new(name, values));
        }
        return lists;
    }

    private static List<IReadOnlyList<RunArgument>> EstimatorSets(JsonElement element, string source)
    {
        if (element.ValueKind != JsonValueKind.Array)
            throw Error(source, $"estimators must be a list of argument objects such as [{{\"estimator\": \"ovis-gamma1\"}}], got {element.GetRawText()}");
        if (element.GetArrayLength() == 0) throw Error(source, "estimators is an empty list, so the grid would have no runs; give at least one {\"estimator\": ...}");
        var sets = new List<IReadOnlyList<RunArgument>>();
        int index = 0;
        foreach (var item in element.EnumerateArray())
        {
            var field = $"estimators[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
                throw Error(source, $"{field} must be an object such as {{\"estimator\": \"ovis-gamma1\"}}, got {item.GetRawText()}");
            var set = ArgumentSet(item, source, field);
            if (sets.Any(s => new RunDefinition(s).Key == new RunDefinition(set).Key)) throw Error(source, $"{field} repeats an earlier estimator argument set");
            sets.Add(set);
        }
        return sets;
    }

    private static IReadOnlyList<RunArgument> ArgumentSet(JsonElement element, string source, string field)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Error(source, $"{field} must be an object mapping argument names to single values, got {element.GetRawText()}");
        return Properties(element, source, field).Select(p =>
        {
            CheckArgumentName(p.Key, source, $"{field}.{p.Key}");
            return Scalar(p.Key, p.Value, source, $"{field}.{p.Key}");
        }).ToArray();
    }

    private static RunArgument Scalar(string name, JsonElement value, string source, string field)
    {
        if (value.ValueKind is JsonValueKind.Array or JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined)
            throw Error(source, $"{field} must be a single value (string, number or true/false), got {value.GetRawText()}");
        return RunDefinition.ToArgument(name, value);
    }

    private static void CheckArgumentName(string name, string source, string field)
    {
        if (!ArgumentPattern.IsMatch(name))
            throw Error(source, $"{field}: '{name}' is not an option name (letters, digits, '-' or '_', starting with a letter)");
        if (ReservedArguments.Contains(name))
            throw Error(source, $"{field}: '--{name}' is set by the experiment runner and cannot be given in a spec");
    }

    /// <summary>The properties of an object, rejecting a key given twice (JSON parsers silently keep the last one).</summary>
    private static OrderedDictionary<string, JsonElement> Properties(JsonElement element, string source, string field)
    {
        var properties = new OrderedDictionary<string, JsonElement>();
        foreach (var property in element.EnumerateObject())
            if (!properties.TryAdd(property.Name, property.Value))
                throw Error(source, $"{field} has the key '{property.Name}' twice");
        return properties;
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => element.GetRawText(),
    };

    private static InvalidDataException Error(string source, string message) => new($"{source}: {message}");
}
