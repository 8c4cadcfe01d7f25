using Ovis.Benchmarks;
using Xunit;

namespace Ovis.Tests.Benchmarks;

public sealed class EfficiencyStudyTests
{
    private static StepBenchmarkResult Result(string estimator, int particles, int chunk, double median, double peak)
        => new(new StepBenchmarkCase("sbn", estimator, particles, 24, 3, Layers: new[] { 200 }, ParticleChunk: chunk), median, median, median, peak, 2 * median);

    [Fact]
    public void ReadGivesBackWhatWriteWrote()
    {
        using var directory = new TempDirectory();
        var written = new[] { Result("reinforce", 5000, 0, 8378.9, 2651.2), Result("reinforce", 50000, 250, 18442.3, 567.4), Result("ovis-gamma1", 10, 0, 7.7, 190) };
        EfficiencyStudy.Write(written, directory.Path);

        var read = EfficiencyStudy.Read(directory.File("efficiency.csv"));

        Assert.Equal(written.Select(r => (r.Case.Estimator, r.Case.Particles, r.Case.ParticleChunk, r.Case.Steps, r.MedianMilliseconds, r.PeakResidentMegabytes, r.CpuMillisecondsPerStep)),
                     read.Select(r => (r.Case.Estimator, r.Case.Particles, r.Case.ParticleChunk, r.Case.Steps, r.MedianMilliseconds, r.PeakResidentMegabytes, r.CpuMillisecondsPerStep)));
        Assert.True(File.Exists(directory.File("efficiency-memory.png")));
    }

    [Fact]
    public void ReadNamesTheLineThatIsNotAResult()
    {
        using var directory = new TempDirectory();
        EfficiencyStudy.Write(new[] { Result("reinforce", 10, 0, 7.7, 190) }, directory.Path);
        var path = directory.File("efficiency.csv");
        File.AppendAllText(path, "vimco-arithmetic,0,ten,24,50,6.2,12,191,13\n");

        var error = Assert.Throws<InvalidDataException>(() => EfficiencyStudy.Read(path));
        Assert.Contains("line 3", error.Message);
    }

    [Fact]
    public void ReadRefusesAFileWithoutTheStudysHeader()
    {
        using var directory = new TempDirectory();
        var path = directory.Write("efficiency.csv", "K,ms\n10,7.7\n");

        var error = Assert.Throws<InvalidDataException>(() => EfficiencyStudy.Read(path));
        Assert.Contains("line 1", error.Message);
    }

    [Fact]
    public void ReadTakesTheFirstFormatWithoutAChunkColumnAsUnchunked()
    {
        using var directory = new TempDirectory();
        var path = directory.Write("efficiency.csv", "estimator,iw,batch_size,steps,median_ms_per_step,cpu_ms_per_step,peak_rss_mb,epoch_seconds\novis-gamma1,10,24,50,6.70015,17.2358,189.402,13.9631\n");

        var result = Assert.Single(EfficiencyStudy.Read(path));
        Assert.Equal(("ovis-gamma1", 10, 0, 189.402), (result.Case.Estimator, result.Case.Particles, result.Case.ParticleChunk, result.PeakResidentMegabytes));
    }
}
