using System.IO.Compression;
using System.Security.Cryptography;

namespace Ovis.Data;

/// <summary>
/// The decompressed content ("payload") of a data file that may be stored gzip-compressed or raw. The format is
/// detected from the first two bytes (0x1F 0x8B for gzip), never from the file name. Gzip files are checked
/// against the trailer of their last member (CRC-32 and length of the decompressed data), so a corrupted or
/// truncated archive is reported instead of silently yielding damaged data (docs/design.md, Data/).
/// </summary>
public static class DataFilePayload
{
    /// <summary>True when <paramref name="header"/> starts with the gzip magic bytes 0x1F 0x8B.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> header) => header.Length >= 2 && header[0] == 0x1F && header[1] == 0x8B;

    /// <summary>Read the file and return its payload (decompressed if it is gzip).</summary>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="InvalidDataException">the gzip data is corrupted or truncated (the message names the file).</exception>
    public static byte[] Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"data file '{path}' does not exist", path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>Return the payload of the file content <paramref name="content"/> (read from <paramref name="path"/>, used in messages).</summary>
    public static byte[] Decode(byte[] content, string path)
        => IsGzip(content) ? Gunzip(content, path) : content;

    /// <summary>SHA-256 of the payload as lowercase hex: the digest published for the decompressed IDX files.</summary>
    public static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(Read(path)));

    /// <summary>SHA-256 of a byte array as lowercase hex.</summary>
    public static string Sha256(byte[] payload) => Convert.ToHexStringLower(SHA256.HashData(payload));

    private static byte[] Gunzip(byte[] content, string path)
    {
        // A gzip member is at least a 10-byte header and an 8-byte trailer.
        if (content.Length < 18)
            throw new InvalidDataException($"'{path}' is truncated: a gzip file needs at least 18 bytes, this one has {content.Length}");
        // Trailer of the (last) member: CRC-32 and length mod 2^32 of the decompressed data, little-endian.
        uint expectedCrc = BitConverter.ToUInt32(content, content.Length - 8);
        uint expectedLength = BitConverter.ToUInt32(content, content.Length - 4);
        byte[] payload;
        try
        {
            using var input = new MemoryStream(content, writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            // Decompress into 1 MB blocks, then into one array of the exact size: at most twice the payload in
            // memory, whatever the (possibly corrupted) trailer announces.
            var blocks = new List<byte[]>();
            long total = 0;
            while (true)
            {
                var block = new byte[1 << 20];
                int filled = 0, read;
                while (filled < block.Length && (read = gzip.Read(block, filled, block.Length - filled)) > 0) filled += read;
                if (filled > 0) { if (filled < block.Length) Array.Resize(ref block, filled); blocks.Add(block); total += filled; }
                if (filled < 1 << 20) break;
            }
            if (total > Array.MaxLength) throw new InvalidDataException($"'{path}' decompresses to more than {Array.MaxLength} bytes");
            payload = new byte[total];
            long offset = 0;
            foreach (var block in blocks) { block.CopyTo(payload, offset); offset += block.Length; }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is a corrupted gzip file ({e.Message}); delete it and fetch it again (ovis data fetch)", e);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"'{path}' is a truncated gzip file; delete it and fetch it again (ovis data fetch)", e);
        }
        // The trailer covers the last gzip member, i.e. the last ISIZE bytes of the payload (all of it for the usual
        // single-member file; concatenated members, as some compressors write, are accepted too).
        if (expectedLength > payload.Length || Crc32.Compute(payload.AsSpan(payload.Length - (int)expectedLength)) != expectedCrc)
            throw new InvalidDataException(
                $"'{path}' is a truncated or corrupted gzip file: the decompressed data ({payload.Length} bytes) does not match the " +
                $"gzip trailer (CRC-32 or length {expectedLength}); delete it and fetch it again (ovis data fetch)");
        return payload;
    }
}

/// <summary>CRC-32 (IEEE 802.3, the checksum of the gzip trailer, RFC 1952).</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }
}
