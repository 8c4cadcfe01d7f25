using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

public class ExperimentSpecTests
{
    private static ExperimentSpec Parse(string json, Action<string>? validate = null) => ExperimentSpec.Parse(json, "specs/test.json", "test", validate);

    [Fact]
    public void GridIsTheCartesianProductWithEstimatorArgumentsOverridingParametersOverridingGlobal()
    {
        var spec = Parse("""
            { "name": "grid", "global": { "steps": 10, "lr": 0.1, "iw": 1 },
              "parameters": { "seed": [1, 2], "iw": [2, 5], "lr": [0.01] },
              "estimators": [ { "estimator": "reinforce" }, { "estimator": "ovis-gamma1", "lr": 0.5 } ] }
            """);
        var runs = spec.Expand();

        Assert.Equal(2 * 2 * 1 * 2, runs.Count);
        Assert.Equal(runs.Count, runs.Select(r => r.Key).Distinct().Count());
        // the first parameter varies slowest, estimators fastest; an override keeps the position of the first occurrence
        Assert.Equal(new[] { "--steps", "10", "--lr", "0.01", "--iw", "2", "--seed", "1", "--estimator", "reinforce" }, runs[0].CommandLine());
        Assert.Equal(new[] { "--steps", "10", "--lr", "0.5", "--iw", "2", "--seed", "1", "--estimator", "ovis-gamma1" }, runs[1].CommandLine());
        Assert.Equal("iw=5 seed=1 estimator=reinforce", runs[2].Describe(new[] { "seed", "iw", "estimator" }));
        Assert.Equal("iw=5 seed=2 estimator=ovis-gamma1", runs[7].Describe(new[] { "seed", "iw", "estimator" }));
        Assert.All(runs, r => Assert.NotEqual("1", r.Get("iw")));
        Assert.All(runs.Where(r => r.Get("estimator") == "reinforce"), r => Assert.Equal("0.01", r.Get("lr")));
        Assert.All(runs.Where(r => r.Get("estimator") == "ovis-gamma1"), r => Assert.Equal("0.5", r.Get("lr")));
    }

    [Fact]
    public void RunKeyDependsOnArgumentValuesNotOnTheirOrder()
    {
        var a = new RunDefinition(new[] { new RunArgument("iw", "2", System.Text.Json.JsonValueKind.Number), new RunArgument("estimator", "reinforce", System.Text.Json.JsonValueKind.String) });
        var b = RunDefinition.FromJson("""{"estimator": "reinforce", "iw": 2}""");
        var c = RunDefinition.FromJson("""{"estimator": "reinforce", "iw": 5}""");
        Assert.Equal(a.Key, b.Key);
        Assert.NotEqual(a.Key, c.Key);
        Assert.Equal(a.Key, RunDefinition.FromJson(a.ToJson()).Key);
    }

    [Fact]
    public void WithoutParametersOrEstimatorsTheGridHasOneRun()
    {
        var runs = Parse("""{ "global": { "estimator": "reinforce", "iw": 3 } }""").Expand();
        Assert.Single(runs);
        Assert.Equal("test", Parse("""{ "global": { "estimator": "reinforce" } }""").Name);
    }

    [Theory]
    [InlineData("""{ "name": "x", """, "specs/test.json: not valid JSON")]
    [InlineData("""[1, 2]""", "specs/test.json: the spec must be a JSON object")]
    [InlineData("""{ "paramters": { "iw": [2] }, "global": { "estimator": "reinforce" } }""", "specs/test.json: unknown field 'paramters'; allowed fields are name, description, global, parameters, estimators")]
    [InlineData("""{ "parameters": { "iw": 5 }, "global": { "estimator": "reinforce" } }""", "specs/test.json: parameters.iw must be a list of values, got 5")]
    [InlineData("""{ "parameters": { "seed": [] }, "global": { "estimator": "reinforce" } }""", "specs/test.json: parameters.seed is an empty list")]
    [InlineData("""{ "parameters": { "seed": [1, {"a": 1}] }, "global": { "estimator": "reinforce" } }""", "specs/test.json: parameters.seed[1] must be a single value")]
    [InlineData("""{ "parameters": { "iw": [2, 5, 2] }, "global": { "estimator": "reinforce" } }""", "specs/test.json: parameters.iw lists 2 twice")]
    [InlineData("""{ "parameters": { "iw": [2], "iw": [5] }, "global": { "estimator": "reinforce" } }""", "specs/test.json: parameters has the key 'iw' twice")]
    [InlineData("""{ "global": { "steps": [1, 2], "estimator": "reinforce" } }""", "specs/test.json: global.steps must be a single value (string, number or true/false), got [1, 2]")]
    [InlineData("""{ "global": { "out": "x", "estimator": "reinforce" } }""", "specs/test.json: global.out: '--out' is set by the experiment runner")]
    [InlineData("""{ "estimators": [] }""", "specs/test.json: estimators is an empty list")]
    [InlineData("""{ "estimators": { "estimator": "reinforce" } }""", "specs/test.json: estimators must be a list of argument objects")]
    [InlineData("""{ "estimators": [ { "estimator": "reinforce" }, "vimco-arithmetic" ] }""", "specs/test.json: estimators[1] must be an object such as {\"estimator\": \"ovis-gamma1\"}, got \"vimco-arithmetic\"")]
    [InlineData("""{ "estimators": [ { "estimator": "reinforce" }, { "estimator": "ovis-bogus" } ] }""", "specs/test.json: estimators[1].estimator: unknown estimator id 'ovis-bogus'")]
    [InlineData("""{ "estimators": [ { "estimator": 3 } ] }""", "specs/test.json: estimators[0].estimator must be an estimator id string, got 3")]
    [InlineData("""{ "parameters": { "estimator": ["reinforce", "ovis-S0-exclusive"] } }""", "specs/test.json: parameters.estimator[1]: estimator id 'ovis-S0-exclusive' is malformed")]
    [InlineData("""{ "estimators": [ { "iw": 2 } ] }""", "specs/test.json: estimators[0] has no \"estimator\"")]
    [InlineData("""{ "name": "a/b", "global": { "estimator": "reinforce" } }""", "specs/test.json: name 'a/b' must be letters")]
    [InlineData("""{ "parameters": { "learning rate": [1] }, "global": { "estimator": "reinforce" } }""", "specs/test.json: parameters.learning rate: 'learning rate' is not an option name")]
    public void MalformedSpecsAreRejectedNamingTheField(string json, string expectedStart)
    {
        var error = Assert.Throws<InvalidDataException>(() => Parse(json));
        Assert.StartsWith(expectedStart, error.Message);
    }

    [Fact]
    public void EstimatorValidationIsPluggable()
    {
        const string json = """{ "estimators": [ { "estimator": "family-not-registered-here" } ] }""";
        Assert.Throws<InvalidDataException>(() => Parse(json));
        Assert.Single(Parse(json, _ => { }).Expand());
    }

    [Theory]
    [InlineData("gmm.json", "gmm", 10, new[] { 2, 5, 10, 20 }, 10, "100000")]
    [InlineData("gmm-quick.json", "gmm-quick", 6, new[] { 2, 5, 20 }, 2, "25000")]
    public void RepositoryGmmSpecsExpandToThePaperGrid(string file, string name, int estimators, int[] ks, int seeds, string steps)
    {
        // estimator ids of families merged from other branches (tvo, wake-wake) are checked for form only here
        var spec = ExperimentSpec.Load(Path.Combine(RepositoryFiles.Root, "experiments", file), id => Assert.Matches("^[a-z][A-Za-z0-9.-]*$", id));
        var runs = spec.Expand();
        Assert.Equal(name, spec.Name);
        Assert.False(string.IsNullOrWhiteSpace(spec.Description));
        Assert.Equal(estimators * ks.Length * seeds, runs.Count);
        Assert.Equal(runs.Count, runs.Select(r => r.Key).Distinct().Count());
        Assert.Equal(ks.Select(k => k.ToString()), runs.Select(r => r.Get("iw")).Distinct());
        Assert.Equal(estimators, runs.Select(r => r.Get("estimator")).Distinct().Count());
        Assert.All(runs, r => Assert.Equal(steps, r.Get("steps")));
        Assert.All(runs, r => Assert.Equal("gmm", r.Get("model")));
        var known = runs.Select(r => r.Get("estimator")!).Distinct().Where(id => !id.StartsWith("tvo-") && id != "wake-wake");
        Assert.All(known, id => Ovis.Estimators.EstimatorRegistry.Create(id));
    }
}
