using System.Buffers.Binary;
using System.IO.Compression;
using Ovis.Data;

namespace Ovis.Tests.Data;

/// <summary>Small IDX / .amat files written by the tests, and temporary folders that clean up after themselves.</summary>
internal static class DataFixtures
{
    /// <summary>An IDX payload: magic, big-endian dimensions, then the values.</summary>
    public static byte[] Idx(int magic, int[] dims, byte[] values)
    {
        var bytes = new byte[4 + 4 * dims.Length + values.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        values.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    /// <summary>An image file of <paramref name="count"/> images of rows×cols with deterministic grey levels.</summary>
    public static byte[] Images(int count, int rows = 2, int cols = 3, int seed = 1)
    {
        var random = new Random(seed);
        var values = new byte[count * rows * cols];
        random.NextBytes(values);
        return Idx(IdxReader.ImagesMagic, new[] { count, rows, cols }, values);
    }

    /// <summary>A label file with labels i mod classes.</summary>
    public static byte[] Labels(int count, int classes = 3)
        => Idx(IdxReader.LabelsMagic, new[] { count }, Enumerable.Range(0, count).Select(i => (byte)(i % classes)).ToArray());

    /// <summary>gzip-compress a payload.</summary>
    public static byte[] Gzip(byte[] payload)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(payload);
        return output.ToArray();
    }

    /// <summary>A .amat text: <paramref name="lines"/> lines of <paramref name="values"/> 0/1 values.</summary>
    public static string Amat(int lines, int values, int seed = 3)
    {
        var random = new Random(seed);
        return string.Concat(Enumerable.Range(0, lines).Select(_ => string.Join(" ", Enumerable.Range(0, values).Select(_ => random.Next(2))) + "\n"));
    }

    /// <summary>A two-split IDX data set spec over fixture files (digests of the given payloads, counts as given).</summary>
    public static DatasetSpec Spec(string name, byte[] trainImages, byte[] trainLabels, byte[] testImages, byte[] testLabels,
                                   ValidationSplit validation, int validationCount, int trainCount, int testCount,
                                   IReadOnlyList<string>? mirrors = null)
        => new(name, name, "fixture", new DataFileSpec[]
            {
                new("train-images", "train-images-idx3-ubyte", DataFileFormat.IdxImages, DataFilePayload.Sha256(trainImages), trainCount),
                new("train-labels", "train-labels-idx1-ubyte", DataFileFormat.IdxLabels, DataFilePayload.Sha256(trainLabels), trainCount),
                new("test-images", "t10k-images-idx3-ubyte", DataFileFormat.IdxImages, DataFilePayload.Sha256(testImages), testCount),
                new("test-labels", "t10k-labels-idx1-ubyte", DataFileFormat.IdxLabels, DataFilePayload.Sha256(testLabels), testCount),
            },
            validation, validationCount, BinarizationMode.Dynamic, mirrors ?? Array.Empty<string>(), Array.Empty<string>(), "supply the fixture");
}
