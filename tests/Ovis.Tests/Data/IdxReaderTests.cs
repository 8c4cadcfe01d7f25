using Ovis.Data;

namespace Ovis.Tests.Data;

public class IdxReaderTests
{
    [Fact]
    public void ReadsRawAndGzipFilesIdentically()
    {
        using var dir = new TempDirectory();
        var payload = DataFixtures.Images(5, 2, 3);
        var raw = IdxReader.ReadImages(dir.Write("raw-images", payload));
        var gz = IdxReader.ReadImages(dir.Write("gz-images.gz", DataFixtures.Gzip(payload)));
        Assert.Equal(new[] { 5, 2, 3 }, raw.Dimensions);
        Assert.Equal(6, raw.ItemSize);
        Assert.Equal(payload.AsSpan(16).ToArray(), raw.Data);
        Assert.Equal(raw.Data, gz.Data);
        // Detection is by content, not by name: a gzip file without .gz and a raw file named .gz both work.
        Assert.Equal(raw.Data, IdxReader.ReadImages(dir.Write("misnamed", DataFixtures.Gzip(payload))).Data);
        Assert.Equal(raw.Data, IdxReader.ReadImages(dir.Write("misnamed.gz", payload)).Data);
        var labels = IdxReader.ReadLabels(dir.Write("labels.gz", DataFixtures.Gzip(DataFixtures.Labels(5))));
        Assert.Equal(new byte[] { 0, 1, 2, 0, 1 }, labels.Data);
    }

    [Fact]
    public void ConcatenatedGzipMembersAreOneFile()
    {
        using var dir = new TempDirectory();
        var payload = DataFixtures.Images(50, 4, 4);
        var split = payload.Length / 3;
        var path = dir.Write("two-members.gz", DataFixtures.Gzip(payload[..split]).Concat(DataFixtures.Gzip(payload[split..])).ToArray());
        Assert.Equal(payload, DataFilePayload.Read(path));
        var last = File.ReadAllBytes(path);
        last[^8] ^= 1;                                                            // the last member's CRC
        File.WriteAllBytes(path, last);
        Assert.Contains("corrupted", Assert.Throws<InvalidDataException>(() => DataFilePayload.Read(path)).Message);
    }

    [Fact]
    public void TruncatedRawFileIsReportedWithItsName()
    {
        using var dir = new TempDirectory();
        var payload = DataFixtures.Images(5);
        var path = dir.Write("images", payload[..^7]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("5×2×3 = 30 values", e.Message);
        // Truncated inside the header too.
        var header = dir.Write("header", payload[..9]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(header)).Message);
    }

    [Fact]
    public void TruncatedGzipFileIsReported()
    {
        using var dir = new TempDirectory();
        var gz = DataFixtures.Gzip(DataFixtures.Images(200, 4, 4));
        foreach (int keep in new[] { gz.Length - 4, gz.Length / 2, 12 })
        {
            var path = dir.Write($"cut{keep}.gz", gz[..keep]);
            var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
            Assert.Contains(path, e.Message);
            Assert.True(e.Message.Contains("truncated") || e.Message.Contains("corrupted"), e.Message);
        }
    }

    [Fact]
    public void CorruptedGzipFileIsReported()
    {
        using var dir = new TempDirectory();
        var gz = DataFixtures.Gzip(DataFixtures.Images(200, 4, 4));
        // Flip bits in the middle of the deflate data, and separately in the CRC trailer.
        var middle = (byte[])gz.Clone();
        for (int i = 20; i < 30; i++) middle[i] ^= 0x5A;
        var trailer = (byte[])gz.Clone();
        trailer[^6] ^= 0xFF;
        foreach (var (name, bytes) in new[] { ("middle.gz", middle), ("trailer.gz", trailer) })
        {
            var path = dir.Write(name, bytes);
            var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("corrupted", e.Message);
        }
    }

    [Fact]
    public void BadMagicIsReported()
    {
        using var dir = new TempDirectory();
        var bytes = DataFixtures.Images(2);
        bytes[2] = 0x0D;   // type code of float32 IDX files
        var path = dir.Write("images", bytes);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("magic 0x00000D03", e.Message);
        Assert.Contains("expected an IDX image file", e.Message);
        var text = dir.Write("text.gz", DataFixtures.Gzip("<html>not found</html>"u8.ToArray()));
        Assert.Contains("not an unsigned-byte IDX file", Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(text)).Message);
    }

    [Fact]
    public void WrongFileTypeIsReported()
    {
        using var dir = new TempDirectory();
        var labels = dir.Write("train-labels.gz", DataFixtures.Gzip(DataFixtures.Labels(4)));
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(labels));
        Assert.Contains(labels, e.Message);
        Assert.Contains("is an IDX label file (magic 0x00000801), expected an IDX image file", e.Message);
        var images = dir.Write("train-images", DataFixtures.Images(4));
        Assert.Contains("is an IDX image file (magic 0x00000803), expected an IDX label file",
            Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(images)).Message);
    }

    [Fact]
    public void SizeMismatchIsReported()
    {
        using var dir = new TempDirectory();
        var bytes = DataFixtures.Images(3).Concat(new byte[] { 1, 2, 3 }).ToArray();
        var path = dir.Write("images.gz", DataFixtures.Gzip(bytes));
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("size mismatch", e.Message);
        Assert.Contains("holds 21 bytes", e.Message);
        var zero = DataFixtures.Idx(IdxReader.ImagesMagic, new[] { 0, 2, 3 }, Array.Empty<byte>());
        Assert.Contains("must be positive", Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(dir.Write("zero", zero))).Message);
    }

    [Fact]
    public void MissingFileIsReported()
    {
        var e = Assert.Throws<FileNotFoundException>(() => IdxReader.ReadImages("/nonexistent/ovis/images.gz"));
        Assert.Contains("/nonexistent/ovis/images.gz", e.Message);
    }
}

public class AmatReaderTests
{
    [Fact]
    public void ReadsLinesOfZerosAndOnes()
    {
        using var dir = new TempDirectory();
        var text = DataFixtures.Amat(4, 6);
        var path = dir.Write("train.amat", System.Text.Encoding.ASCII.GetBytes(text));
        var (data, count) = AmatReader.Read(path, 4, valuesPerLine: 6);
        Assert.Equal(4, count);
        var expected = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).SelectMany(l => l.Split(' ').Select(byte.Parse)).ToArray();
        Assert.Equal(expected, data);
        var gz = dir.Write("train.amat.gz", DataFixtures.Gzip(System.Text.Encoding.ASCII.GetBytes(text.Replace("\n", "\r\n"))));
        Assert.Equal(expected, AmatReader.Read(gz, 4, valuesPerLine: 6).Data);
    }

    [Fact]
    public void WrongLineCountValueOrWidthIsReported()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("valid.amat", System.Text.Encoding.ASCII.GetBytes(DataFixtures.Amat(3, 6)));
        var e = Assert.Throws<InvalidDataException>(() => AmatReader.Read(path, 10000, valuesPerLine: 6));
        Assert.Contains(path, e.Message);
        Assert.Contains("has 3 examples, expected 10000 (truncated?)", e.Message);
        var grey = dir.Write("grey.amat", "0 1 0.5 1 0 0\n"u8.ToArray());
        Assert.Contains("line 1: value '0.5' is not 0 or 1", Assert.Throws<InvalidDataException>(() => AmatReader.Read(grey, 1, 6)).Message);
        var narrow = dir.Write("narrow.amat", "0 1 0 1 0 0\n0 1 1\n"u8.ToArray());
        Assert.Contains("line 2 has 3 values, expected 6", Assert.Throws<InvalidDataException>(() => AmatReader.Read(narrow, 2, 6)).Message);
        // An IDX file given as .amat is rejected, not misread.
        var idx = dir.Write("images.amat", DataFixtures.Images(2));
        Assert.Throws<InvalidDataException>(() => AmatReader.Read(idx, 2, 6));
    }
}
