using Ovis.Experiments;

namespace Ovis.Tests.Experiments;

public class MetricsFileTests
{
    [Fact]
    public void ReadsTheTrainersNestedMetricsAndFlatLines()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ovis-metrics-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, new[]
        {
            "{\"step\":0,\"metrics\":{\"gmm/posterior_error\":0.7,\"grads/snr\":null}}",
            "{\"step\":100,\"metrics\":{\"gmm/posterior_error\":0.5,\"grads/snr\":1.5}}",
            "{\"step\":200,\"gmm/posterior_error\":0.4}",
        });
        try
        {
            var series = MetricsFile.Read(path);
            Assert.Equal(new[] { 0.7, 0.5, 0.4 }, series["gmm/posterior_error"]);
            Assert.Equal(new[] { 1.5 }, series["grads/snr"]);
            Assert.False(series.ContainsKey("step"));
        }
        finally { File.Delete(path); }
    }
}
