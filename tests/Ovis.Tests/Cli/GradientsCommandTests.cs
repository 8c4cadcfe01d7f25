using Ovis.Cli;

namespace Ovis.Tests.Cli;

[Collection("Torch")]
public class GradientsCommandTests
{
    [Fact]
    public void WritesTheCsvAndTheFigure()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ovis-gradients-" + Guid.NewGuid().ToString("N"));
        try
        {
            int exit = Program.BuildRoot().Parse(new[] { "gradients", "--estimators", "vimco-arithmetic", "--iw", "3,5", "--samples", "6",
                "--points", "4", "--dimension", "3", "--out", directory }).Invoke();
            Assert.Equal(0, exit);
            var lines = File.ReadAllLines(Path.Combine(directory, "gradients.csv"));
            Assert.StartsWith("estimator,K,draws,snr,dsnr,variance,magnitude", lines[0]);
            Assert.Equal(1 + 2 * 2, lines.Length);                       // vimco-arithmetic and the reference ovis-gamma0, two K each
            Assert.Contains(lines, l => l.StartsWith("vimco-arithmetic,5,6,", StringComparison.Ordinal));
            var png = File.ReadAllBytes(Path.Combine(directory, "gradients.png"));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Take(4).ToArray());

            // --saved-only with one more K: the saved cells are reported again, K = 7 is listed as missing, not computed.
            exit = Program.BuildRoot().Parse(new[] { "gradients", "--estimators", "vimco-arithmetic", "--iw", "3,5,7", "--samples", "6",
                "--points", "4", "--dimension", "3", "--out", directory, "--saved-only" }).Invoke();
            Assert.Equal(0, exit);
            Assert.Equal(lines, File.ReadAllLines(Path.Combine(directory, "gradients.csv")));
            Assert.Empty(Directory.GetFiles(Path.Combine(directory, "cells"), "*_K7.json"));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void RejectsABiasedReferenceWithExitCodeTwo()
    {
        int exit = Program.BuildRoot().Parse(new[] { "gradients", "--reference", "ovis-gamma1", "--out", Path.GetTempPath() }).Invoke();
        Assert.Equal(2, exit);
    }
}
