using System.Buffers.Binary;

namespace Ovis.Data;

/// <summary>What an IDX file holds, by its magic number (docs/experiments.md §4.3).</summary>
public enum IdxKind
{
    /// <summary>labels: magic 0x00000801, one dimension [N], unsigned bytes.</summary>
    Labels = 1,
    /// <summary>images: magic 0x00000803, three dimensions [N, rows, columns], unsigned bytes.</summary>
    Images = 3,
}

/// <summary>A decoded IDX array of unsigned bytes: its dimensions and its row-major data.</summary>
/// <param name="Path">the file it was read from.</param>
/// <param name="Dimensions">the dimensions declared in the header, e.g. [60000, 28, 28].</param>
/// <param name="Data">the row-major values, as many as the product of the dimensions.</param>
public sealed record IdxArray(string Path, int[] Dimensions, byte[] Data)
{
    /// <summary>The first dimension (number of images or labels).</summary>
    public int Count => Dimensions[0];

    /// <summary>Values per item: the product of the dimensions after the first (784 for 28×28 images, 1 for labels).</summary>
    public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// Reader of the IDX format of MNIST and Fashion-MNIST (docs/experiments.md §4.3): a big-endian header — two zero
/// bytes, the type code 0x08 (unsigned byte), the number of dimensions — then the dimensions as big-endian int32,
/// then the values. Files may be gzip-compressed or raw (detected by content). Every defect gives an
/// <see cref="InvalidDataException"/> naming the file and saying what is wrong.
/// </summary>
public static class IdxReader
{
    /// <summary>Magic number of an image file.</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of a label file.</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Read an image file [N, rows, columns].</summary>
    public static IdxArray ReadImages(string path) => Read(path, IdxKind.Images);

    /// <summary>Read a label file [N].</summary>
    public static IdxArray ReadLabels(string path) => Read(path, IdxKind.Labels);

    /// <summary>Read a file that must be of the given kind.</summary>
    public static IdxArray Read(string path, IdxKind expected) => Parse(DataFilePayload.Read(path), path, expected);

    /// <summary>Encode an array back into its IDX payload (header + values), e.g. to write a packed file or check a digest.</summary>
    public static byte[] Idx(IdxArray array)
    {
        int magic = array.Dimensions.Length == 3 ? ImagesMagic : array.Dimensions.Length == 1 ? LabelsMagic
            : throw new ArgumentException($"only 1-D label and 3-D image arrays are supported, got {array.Dimensions.Length} dimensions");
        var bytes = new byte[4 + 4 * array.Dimensions.Length + array.Data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < array.Dimensions.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), array.Dimensions[i]);
        array.Data.CopyTo(bytes, 4 + 4 * array.Dimensions.Length);
        return bytes;
    }

    /// <summary>Decode a payload (already decompressed) that must be of the given kind.</summary>
    public static IdxArray Parse(byte[] payload, string path, IdxKind expected)
    {
        int expectedMagic = expected == IdxKind.Images ? ImagesMagic : LabelsMagic;
        string expectedName = expected == IdxKind.Images ? "an IDX image file" : "an IDX label file";
        if (payload.Length < 4)
            throw new InvalidDataException($"'{path}' is truncated: {payload.Length} bytes, too short for an IDX header (expected {expectedName})");
        int magic = BinaryPrimitives.ReadInt32BigEndian(payload);
        if (magic != expectedMagic)
        {
            string found = magic switch
            {
                ImagesMagic => "an IDX image file (magic 0x00000803)",
                LabelsMagic => "an IDX label file (magic 0x00000801)",
                _ => $"not an unsigned-byte IDX file (magic 0x{magic:X8})",
            };
            throw new InvalidDataException($"'{path}' is {found}, expected {expectedName} (magic 0x{expectedMagic:X8})");
        }
        int rank = (int)expected;
        int headerSize = 4 + 4 * rank;
        if (payload.Length < headerSize)
            throw new InvalidDataException($"'{path}' is truncated: {payload.Length} bytes, too short for the {headerSize}-byte header of {expectedName}");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(4 + 4 * i));
            if (dims[i] <= 0)
                throw new InvalidDataException($"'{path}' is corrupted: dimension {i} in the header is {dims[i]}, must be positive");
            count *= dims[i];
        }
        long actual = payload.Length - headerSize;
        if (actual != count)
        {
            string shape = string.Join("×", dims);
            string what = actual < count ? "is truncated (size mismatch)" : "has trailing data (size mismatch)";
            throw new InvalidDataException(
                $"'{path}' {what}: the header declares {shape} = {count} values but the file holds {actual} bytes after the header");
        }
        var data = payload.AsSpan(headerSize).ToArray();
        return new IdxArray(path, dims, data);
    }
}
