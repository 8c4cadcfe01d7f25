using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Ovis.Analysis;
using Ovis.Estimators;
using Ovis.Models;
using static TorchSharp.torch;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis verify</c>: run the exact enumeration oracle on the embedded tiny discrete model and print, per
/// estimator, the relative bias of its expected gradient, its total variance, and whether that matches its claim.
/// </summary>
public static class VerifyCommand
{
    /// <summary>The estimators checked when none are named.</summary>
    public const string DefaultEstimators =
        "reinforce,vimco-arithmetic,vimco-geometric,ovis-gamma0,ovis-gamma0.5,ovis-gamma1,ovis-gamma0-geometric,ovis-gamma1-reference,ovis-S1-exclusive,ovis-S2-exclusive,ovis-S1,ovis-S0.5K,wake-wake,tvo-part2,reinforce-baseline";

    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var estimators = new Option<string>("--estimator", "--estimators") { Description = "comma-separated estimator ids (see ovis estimators)", DefaultValueFactory = _ => DefaultEstimators };
        var particles = new Option<string>("--iw") { Description = "K, one or more comma-separated values", DefaultValueFactory = _ => "3" };
        var alpha = new Option<string>("--alpha") { Description = "Rényi α in [0, 1), one or more comma-separated values", DefaultValueFactory = _ => "0" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the tiny model's random parameters", DefaultValueFactory = _ => 7UL };
        var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
        var command = new Command("verify", "Check estimators against the exact oracle (float64 enumeration of every particle draw on a tiny discrete model)");
        foreach (var option in new Option[] { estimators, particles, alpha, seed, format }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var outputFormat = parse.GetValue(format);
            if (outputFormat is not ("table" or "json")) throw new ArgumentException($"--format must be table or json, got '{outputFormat}'");
            var selected = EstimatorRegistry.CreateMany(parse.GetValue(estimators)!);
            var ks = CommandRunner.ParseIntegers(parse.GetValue(particles)!, "--iw");
            var alphas = CommandRunner.ParseNumbers(parse.GetValue(alpha)!, "--alpha");
            foreach (var a in alphas) Bounds.RenyiAlpha.Check(a);
            var results = Run(selected, ks, alphas, parse.GetValue(seed));
            if (outputFormat == "json") WriteJson(results);
            else WriteTable(results);
            return results.Any(r => r.ClaimHolds == false) ? 1 : 0;
        }));
        return command;
    }

    /// <summary>Verify every estimator at every (K, α) on the tiny model.</summary>
    public static IReadOnlyList<VerificationResult> Run(IReadOnlyList<GradientEstimator> estimators, IReadOnlyList<int> ks, IReadOnlyList<double> alphas, ulong seed)
    {
        using var scope = NewDisposeScope();
        manual_seed((long)seed);   // estimators with their own networks (reinforce-baseline) initialise from the global generator
        var model = TinyDiscreteModel.Create(seed);
        var verifier = new EstimatorVerifier(new ExactOracle(model, TinyDiscreteModel.Data()));
        var results = new List<VerificationResult>();
        foreach (var estimator in estimators)
            foreach (var k in ks)
                foreach (var a in alphas)
                    results.Add(verifier.Verify(estimator, k, a));
        return results;
    }

    private static string Format(double v) => double.IsNaN(v) ? "-" : v.ToString("E2", CultureInfo.InvariantCulture);

    private static void WriteTable(IReadOnlyList<VerificationResult> results)
    {
        Console.WriteLine("Exact oracle: tiny sigmoid belief network (layers [1, 2], 3 observed bits, 2 data points), float64, every particle draw enumerated.");
        var table = new TextTable("estimator", "K", "alpha", "rel. bias phi", "rel. bias theta", "var phi", "var theta", "claim", "matches claim");
        foreach (var r in results)
            table.Add(r.Estimator, r.Particles.ToString(CultureInfo.InvariantCulture), r.Alpha.ToString(CultureInfo.InvariantCulture),
                Format(r.PhiRelativeBias), Format(r.ThetaRelativeBias), Format(r.PhiVariance), Format(r.ThetaVariance),
                r.Error is null ? r.Claim : "not applicable: " + r.Error,
                r.ClaimHolds switch { true => $"yes ({Format(r.ClaimResidual!.Value)})", false => $"NO ({Format(r.ClaimResidual!.Value)})", _ => "-" });
        table.Write(Console.Out);
    }

    private static void WriteJson(IReadOnlyList<VerificationResult> results)
    {
        static double? Finite(double v) => double.IsFinite(v) ? v : null;
        var rows = results.Select(r => new
        {
            estimator = r.Estimator, iw = r.Particles, alpha = r.Alpha,
            relative_bias_phi = Finite(r.PhiRelativeBias), relative_bias_theta = Finite(r.ThetaRelativeBias),
            variance_phi = Finite(r.PhiVariance), variance_theta = Finite(r.ThetaVariance),
            claim = r.Claim, claim_residual = r.ClaimResidual, matches_claim = r.ClaimHolds, error = r.Error,
        });
        Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
    }
}
