using System.CommandLine;
using System.Globalization;
using Ovis.Catalog;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis evaluate --run DIR --iw 1,10,100,1000</c>: L_K of a trained sbn or vae run at several K on the same
/// fixed test points, with each K's rise over the previous one and its paired standard error.
/// </summary>
public static class EvaluateCommand
{
    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "the run directory (config.json and checkpoint.bin of ovis train)", Required = true };
        var particles = new Option<string>("--iw") { Description = "K values, comma-separated, ascending", DefaultValueFactory = _ => "1,10,100,1000" };
        var points = new Option<int>("--points") { Description = "fixed test points", DefaultValueFactory = _ => 200 };
        var chunk = new Option<int>("--chunk") { Description = "particles per chunk (memory bound; the result is exact)", DefaultValueFactory = _ => 500 };
        var seed = new Option<ulong>("--seed") { Description = "seed of the test-point choice and of the particles", DefaultValueFactory = _ => 1UL };
        var dataDir = new Option<string?>("--data-dir") { Description = "where the data set is, if not where the run found it" };
        var command = new Command("evaluate", "L_K of a trained run at several K on the same test points, with the paired rise between consecutive K");
        foreach (var option in new Option[] { run, particles, points, chunk, seed, dataDir }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var ks = CommandRunner.ParseIntegers(parse.GetValue(particles)!, "--iw");
            if (ks.Zip(ks.Skip(1)).Any(p => p.Second <= p.First)) throw new ArgumentException("--iw must be ascending");
            if (parse.GetValue(chunk) < 1) throw new ArgumentException("--chunk must be positive");
            var (step, rows) = RunEvaluation.Evaluate(parse.GetValue(run)!, ks, parse.GetValue(points), parse.GetValue(chunk), parse.GetValue(seed), parse.GetValue(dataDir));
            Console.WriteLine($"{parse.GetValue(run)} at step {step}, {rows[0].Estimate.Count} test points:");
            var table = new TextTable("K", "L_K", "± SE", "rise over previous K", "± paired SE", "rise / SE", "KL(q||p)", "ESS");
            string F(double v, string format = "F3") => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
            foreach (var row in rows)
            {
                var e = row.Estimate;
                table.Add(e.Particles.ToString(CultureInfo.InvariantCulture), F(e.MeanBound), F(e.BoundStandardError), F(row.RiseOverPrevious),
                          F(row.RiseStandardError), F(row.RiseOverPrevious / row.RiseStandardError, "F1"), F(e.MeanPosteriorDivergence), F(e.MeanEffectiveSampleSize));
            }
            table.Write(Console.Out);
            return 0;
        }));
        return command;
    }
}
