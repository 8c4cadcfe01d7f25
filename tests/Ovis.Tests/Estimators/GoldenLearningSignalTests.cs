using System.Globalization;
using System.Text.Json;
using Ovis.Estimators;
using static TorchSharp.torch;

namespace Ovis.Tests.Estimators;

/// <summary>
/// Every record of Golden/learning-signals.json (computed with the authors' implementation; provenance in Golden/README.md): Ovis's
/// L, v, d, c and r = d − c match to 1e-10 in float64; where a record carries an `exact` block (the reference's clamp
/// or cancellation when one weight dominates), Ovis's exact leave-one-out matches `exact`, and the `-reference`
/// variant reproduces the reference's own numbers.
/// </summary>
[Collection("Torch")]
public class GoldenLearningSignalTests
{
    private const double Tolerance = 1e-10;

    private static readonly Lazy<JsonElement[]> Records = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Estimators", "Golden", "learning-signals.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("records").EnumerateArray().Select(r => r.Clone()).ToArray();
    });

    public static TheoryData<string> RecordIds()
    {
        var data = new TheoryData<string>();
        foreach (var r in Records.Value) data.Add(r.GetProperty("id").GetString()!);
        return data;
    }

    private static double[] Numbers(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    /// <summary>The Ovis id of a reference record: OVIS_MC's fractional ids are absolute S = 3 here.</summary>
    private static string OvisId(JsonElement record)
    {
        var id = record.GetProperty("estimator_id").GetString()!;
        if (record.GetProperty("reference_class").GetString() == "OvisMonteCarlo")
            return $"ovis-S{record.GetProperty("params").GetProperty("S").GetInt32()}-exclusive";
        return id;
    }

    private static (double L, double[] v, double[] d, double[] c, double[] r) Evaluate(JsonElement record, string id)
    {
        using var scope = NewDisposeScope();
        double alpha = record.GetProperty("alpha").GetDouble();
        var a = tensor(Numbers(record.GetProperty("a")), dtype: float64).view(1, 1, -1);          // [B=1, M=1, K]
        Tensor? aux = record.GetProperty("aux").ValueKind == JsonValueKind.Null
            ? null : tensor(Numbers(record.GetProperty("aux")), dtype: float64).view(1, 1, -1);    // [1, 1, S]
        var estimator = (ScoreFunctionEstimator)EstimatorRegistry.Create(id);
        var signal = new LearningSignal(a, alpha, aux);
        var c = estimator.ControlVariateOf(signal);
        var r = estimator.Residual(signal);
        static double[] Flat(Tensor t) => t.reshape(-1).data<double>().ToArray();
        return (signal.Bound.item<double>(), Flat(signal.Weights), Flat(signal.Signal), Flat(c), Flat(r));
    }

    private static void AssertClose(double[] expected, double[] actual, string what, double tolerance = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"{what}[{i}]: expected {expected[i].ToString("R", CultureInfo.InvariantCulture)}, got {actual[i].ToString("R", CultureInfo.InvariantCulture)}");
    }

    [Theory]
    [MemberData(nameof(RecordIds))]
    public void OvisMatchesTheReferenceSignals(string recordId)
    {
        var record = Records.Value.Single(r => r.GetProperty("id").GetString() == recordId);
        var (L, v, d, c, r) = Evaluate(record, OvisId(record));
        AssertClose(new[] { record.GetProperty("L").GetDouble() }, new[] { L }, "L");
        AssertClose(Numbers(record.GetProperty("v")), v, "v");
        AssertClose(Numbers(record.GetProperty("d")), d, "d");
        var expected = record.TryGetProperty("exact", out var exact) ? exact : record;
        AssertClose(Numbers(expected.GetProperty("c")), c, "c");
        AssertClose(Numbers(expected.GetProperty("r")), r, "r");
    }

    public static TheoryData<string> OvisAsymptoticRecordIds()
    {
        var data = new TheoryData<string>();
        foreach (var r in Records.Value.Where(r => r.GetProperty("reference_class").GetString() == "OvisAsymptotic"))
            data.Add(r.GetProperty("id").GetString()!);
        return data;
    }

    /// <summary>
    /// The -reference form reproduces the reference's own values, clamp included. Where the record gives a
    /// reference_sensitivity (one ulp of v_k), the comparison allows a few ulps' worth of movement.
    /// </summary>
    [Theory]
    [MemberData(nameof(OvisAsymptoticRecordIds))]
    public void ReferenceFormReproducesTheReferenceCode(string recordId)
    {
        var record = Records.Value.Single(r => r.GetProperty("id").GetString() == recordId);
        var (_, _, _, c, r) = Evaluate(record, record.GetProperty("estimator_id").GetString() + "-reference");
        var expectedC = Numbers(record.GetProperty("c"));
        var expectedR = Numbers(record.GetProperty("r"));
        for (int i = 0; i < expectedC.Length; i++)
        {
            double allowance = Tolerance * Math.Max(1, Math.Abs(expectedC[i])) + 4 * Sensitivity(record, i);
            Assert.True(Math.Abs(expectedC[i] - c[i]) <= allowance, $"c[{i}]: expected {expectedC[i]:R}, got {c[i]:R}");
            Assert.True(Math.Abs(expectedR[i] - r[i]) <= allowance, $"r[{i}]: expected {expectedR[i]:R}, got {r[i]:R}");
        }
    }

    /// <summary>The movement of c_k per ulp of v_k recorded by the reference (0 when absent).</summary>
    private static double Sensitivity(JsonElement record, int k)
    {
        if (!record.TryGetProperty("reference_sensitivity", out var s) || s.ValueKind == JsonValueKind.Null) return 0;
        double best = 0;
        void Visit(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object: foreach (var p in e.EnumerateObject()) Visit(p.Value); break;
                case JsonValueKind.Array:
                    var items = e.EnumerateArray().ToArray();
                    if (items.Length > k && items[k].ValueKind == JsonValueKind.Number) best = Math.Max(best, items[k].GetDouble());
                    else foreach (var item in items) Visit(item);
                    break;
            }
        }
        Visit(s);
        return best;
    }
}
