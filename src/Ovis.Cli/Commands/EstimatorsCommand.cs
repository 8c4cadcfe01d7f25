using System.CommandLine;
using System.Text.Json;
using Ovis.Estimators;

namespace Ovis.Cli.Commands;

/// <summary><c>ovis estimators</c>: every accepted id form with its family, bias and memory order.</summary>
public static class EstimatorsCommand
{
    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
        var command = new Command("estimators", "List the estimator ids: family, unbiased or not and why, memory order");
        command.Options.Add(format);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var rows = EstimatorRegistry.Forms.Select(form =>
            {
                var estimator = form.Create(form.Pattern.Match(form.Example));
                var claim = estimator.Claim(0);
                return new
                {
                    form = form.Form,
                    example = form.Example,
                    family = estimator.Description.Family.ToString(),
                    unbiased = claim?.IsUnbiased,
                    why = claim?.Explanation ?? "no closed-form claim; see ovis verify",
                    memory = estimator.Description.Memory,
                    meaning = form.Meaning,
                };
            }).ToArray();
            switch (parse.GetValue(format))
            {
                case "json":
                    Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
                    break;
                case "table":
                    var table = new TextTable("id form", "family", "unbiased (at α = 0, example)", "memory", "meaning");
                    foreach (var r in rows)
                        table.Add(r.form, r.family, r.unbiased switch { true => "yes: " + r.why, false => $"no ({r.example}): " + r.why, _ => r.why }, r.memory, r.meaning);
                    table.Write(Console.Out);
                    break;
                default:
                    throw new ArgumentException($"--format must be table or json, got '{parse.GetValue(format)}'");
            }
            return 0;
        }));
        return command;
    }
}
