using System.Text.Json;

namespace Ovis.Tests.Cli;

[Collection("Torch")]
public class VerifyCommandTests
{
    [Fact]
    public void JsonListsEveryDefaultEstimatorWithBiasAndVariance()
    {
        var (code, stdout, stderr) = CliRunner.Run("verify", "--format", "json", "--iw", "2,3", "--alpha", "0,0.5");
        Assert.True(code == 0, stderr + stdout);
        using var document = JsonDocument.Parse(stdout);
        var rows = document.RootElement.EnumerateArray().ToArray();
        var ids = Ovis.Cli.Commands.VerifyCommand.DefaultEstimators.Split(',');
        Assert.Equal(ids.Length * 4, rows.Length);
        foreach (var id in ids) Assert.Contains(rows, r => r.GetProperty("estimator").GetString() == id);
        foreach (var row in rows)
        {
            Assert.True(row.GetProperty("matches_claim").ValueKind != JsonValueKind.False, row.ToString());
            if (row.GetProperty("error").ValueKind == JsonValueKind.Null)
            {
                Assert.True(row.GetProperty("variance_phi").GetDouble() > 0);
                Assert.True(row.GetProperty("relative_bias_phi").GetDouble() >= 0);
            }
        }
        var unbiased = rows.Single(r => r.GetProperty("estimator").GetString() == "ovis-gamma0" && r.GetProperty("iw").GetInt32() == 3 && r.GetProperty("alpha").GetDouble() == 0.5);
        Assert.True(unbiased.GetProperty("relative_bias_phi").GetDouble() < 1e-9);
        var biased = rows.Single(r => r.GetProperty("estimator").GetString() == "ovis-gamma1" && r.GetProperty("iw").GetInt32() == 3 && r.GetProperty("alpha").GetDouble() == 0);
        Assert.True(biased.GetProperty("relative_bias_phi").GetDouble() > 0.01);
        Assert.True(biased.GetProperty("matches_claim").GetBoolean());
    }

    [Fact]
    public void UnknownEstimatorIsOneLineOnStandardErrorAndExitCodeTwo()
    {
        var (code, stdout, stderr) = CliRunner.Run("verify", "--estimator", "ovis-gama1");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("ovis: unknown estimator id 'ovis-gama1'", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void BadAlphaIsRejected()
    {
        var (code, _, stderr) = CliRunner.Run("verify", "--alpha", "1.5");
        Assert.Equal(2, code);
        Assert.Contains("α", stderr);
    }

    [Fact]
    public void SingleParticleReportsWhatEachEstimatorDoes()
    {
        var (code, stdout, stderr) = CliRunner.Run("verify", "--iw", "1", "--estimators", "reinforce,ovis-gamma1,ovis-S1-exclusive");
        Assert.True(code == 0, stderr);
        Assert.Contains("needs K ≥ 2", stdout);
        Assert.Contains("reinforce", stdout);
    }

    [Fact]
    public void EstimatorsCommandListsEveryForm()
    {
        var (code, stdout, _) = CliRunner.Run("estimators", "--format", "json");
        Assert.Equal(0, code);
        using var document = JsonDocument.Parse(stdout);
        var forms = document.RootElement.EnumerateArray().Select(r => r.GetProperty("form").GetString()).ToArray();
        foreach (var form in Ovis.Estimators.EstimatorRegistry.Forms) Assert.Contains(form.Form, forms);
    }
}
