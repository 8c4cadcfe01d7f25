using Ovis.Models;
using TorchSharp.Modules;

namespace Ovis.Analysis;

/// <summary>A selected parameter with its registered name.</summary>
public sealed record NamedParameter(string Name, Parameter Parameter);

/// <summary>
/// Which parameters a gradient analysis differentiates (the reference's <c>grad_key</c>, docs/estimators.md §7.2):
/// the inference parameters φ, the generative parameters θ, or every parameter whose registered name contains one of
/// the given substrings (e.g. "b" for the Gaussian toy's bias). The layout of a draw is the selected parameters
/// flattened and concatenated in the model's registration order.
/// </summary>
public sealed class ParameterSelection
{
    private readonly Func<LatentVariableModel, IReadOnlyList<NamedParameter>> select;

    private ParameterSelection(string description, Func<LatentVariableModel, IReadOnlyList<NamedParameter>> select)
    {
        Description = description;
        this.select = select;
    }

    /// <summary>What is selected, for reports.</summary>
    public string Description { get; }

    /// <summary>The inference parameters φ (the default of training runs).</summary>
    public static ParameterSelection Inference { get; } = new("inference parameters φ", m => Named(m, m.InferenceParameters()));

    /// <summary>The generative parameters θ.</summary>
    public static ParameterSelection Generative { get; } = new("generative parameters θ", m => Named(m, m.GenerativeParameters()));

    /// <summary>Parameters whose name contains any of the comma-separated substrings (the reference's grad_key).</summary>
    public static ParameterSelection ByName(string substrings)
    {
        var keys = (substrings ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (keys.Length == 0) throw new ArgumentException("the parameter key needs at least one name substring, e.g. --key b");
        return new($"parameters named like {string.Join(", ", keys)}", m =>
            m.named_parameters().Where(p => keys.Any(k => p.name.Contains(k, StringComparison.Ordinal)))
             .Select(p => new NamedParameter(p.name, p.parameter)).ToArray());
    }

    /// <summary>Parse "inference", "generative", or otherwise name substrings.</summary>
    public static ParameterSelection Parse(string key) => key switch
    {
        "inference" or "phi" => Inference,
        "generative" or "theta" => Generative,
        _ => ByName(key),
    };

    /// <summary>The selected parameters of <paramref name="model"/>, in registration order; throws when none match.</summary>
    public IReadOnlyList<NamedParameter> Select(LatentVariableModel model)
    {
        var selected = select(model);
        if (selected.Count == 0)
        {
            var names = string.Join(", ", model.named_parameters().Select(p => p.name));
            throw new ArgumentException($"no parameter of model '{model.GetName()}' matches {Description}; its parameters are: {names}");
        }
        return selected;
    }

    private static IReadOnlyList<NamedParameter> Named(LatentVariableModel model, IReadOnlyList<Parameter> parameters)
    {
        var order = model.named_parameters().Select((p, i) => (p.parameter.Handle, p.name, i)).ToDictionary(t => t.Handle, t => (t.name, t.i));
        return parameters.Select(p => (p, order.TryGetValue(p.Handle, out var o) ? o : ("?", int.MaxValue)))
            .OrderBy(t => t.Item2.Item2).Select(t => new NamedParameter(t.Item2.Item1, t.p)).ToArray();
    }
}
