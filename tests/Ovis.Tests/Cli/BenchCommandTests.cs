using System.Text.Json;

namespace Ovis.Tests.Cli;

[Collection("Torch")]
public sealed class BenchCommandTests
{
    [Fact]
    public void InterleavedWithAParticleChunkTimesEveryEstimatorUnchunkedAndChunkedInOneRun()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "--model", "gmm", "--estimators", "ovis-gamma1", "--iw", "7", "--batch-size", "5",
            "--steps", "2", "--warmup", "0", "--interleave", "--particle-chunk", "3", "--format", "json");
        Assert.True(code == 0, stderr);
        var rows = JsonDocument.Parse(stdout).RootElement.EnumerateArray()
            .Select(r => (Estimator: r.GetProperty("estimator").GetString()!, Chunk: r.GetProperty("particle_chunk").GetInt32(), Row: r)).ToArray();
        Assert.Equal(new[] { ("reinforce", 0), ("reinforce", 3), ("ovis-gamma1", 0), ("ovis-gamma1", 3) }, rows.Select(r => (r.Estimator, r.Chunk)));
        foreach (var (_, chunk, row) in rows)
        {
            // A chunked row is compared with the same estimator unchunked, and with REINFORCE at the same chunk size.
            Assert.Equal(chunk == 0, row.GetProperty("ratio_to_unchunked").ValueKind == JsonValueKind.Null);
            if (chunk > 0) Assert.True(row.GetProperty("ratio_to_unchunked").GetDouble() > 0);
        }
        Assert.Equal(1.0, rows[1].Row.GetProperty("ratio_to_reinforce").GetDouble());
    }
}
