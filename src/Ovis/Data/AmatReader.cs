namespace Ovis.Data;

/// <summary>
/// Reader of Larochelle's binarised MNIST text files (<c>binarized_mnist_{train,valid,test}.amat</c>,
/// docs/experiments.md §4.1): one example per line, <see cref="ValuesPerLine"/> integers 0 or 1 separated by single spaces.
/// </summary>
public static class AmatReader
{
    /// <summary>Pixels per example (28×28).</summary>
    public const int ValuesPerLine = 784;

    /// <summary>
    /// Read the file and return its examples row-major, [N·784] bytes of 0/1. The file may be gzip-compressed.
    /// </summary>
    /// <param name="path">the .amat file.</param>
    /// <param name="expectedLines">the number of examples the file must hold (50,000 / 10,000 / 10,000), or null to accept any.</param>
    /// <param name="valuesPerLine">values per line (784 for MNIST; smaller in tests).</param>
    /// <exception cref="InvalidDataException">a line has the wrong number of values, a value is not 0 or 1, or the line count is wrong.</exception>
    public static (byte[] Data, int Count) Read(string path, int? expectedLines, int valuesPerLine = ValuesPerLine)
        => Parse(DataFilePayload.Read(path), path, expectedLines, valuesPerLine);

    /// <summary>Decode an already decompressed .amat payload read from <paramref name="path"/> (named in messages).</summary>
    public static (byte[] Data, int Count) Parse(byte[] payload, string path, int? expectedLines, int valuesPerLine = ValuesPerLine)
    {
        var lines = new List<byte[]>();
        int position = 0, lineNumber = 0;
        while (position < payload.Length)
        {
            int end = Array.IndexOf(payload, (byte)'\n', position);
            if (end < 0) end = payload.Length;
            lineNumber++;
            var line = payload.AsSpan(position, end - position);
            position = end + 1;
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            if (line.Trim((byte)' ').Length == 0)
            {
                if (position >= payload.Length) break;   // a trailing empty line
                throw new InvalidDataException($"'{path}' line {lineNumber} is empty; expected {valuesPerLine} values 0/1 per line");
            }
            lines.Add(ParseLine(line, path, lineNumber, valuesPerLine));
        }
        if (expectedLines is int expected && lines.Count != expected)
            throw new InvalidDataException(
                $"'{path}' has {lines.Count} examples, expected {expected}{(lines.Count < expected ? " (truncated?)" : "")}");
        var data = new byte[(long)lines.Count * valuesPerLine];
        for (int i = 0; i < lines.Count; i++) lines[i].CopyTo(data, (long)i * valuesPerLine);
        return (data, lines.Count);
    }

    private static byte[] ParseLine(ReadOnlySpan<byte> line, string path, int lineNumber, int valuesPerLine)
    {
        var values = new byte[valuesPerLine];
        int count = 0;
        foreach (var range in line.Split((byte)' '))
        {
            var token = line[range];
            if (token.Length == 0) continue;
            if (token.Length != 1 || (token[0] != (byte)'0' && token[0] != (byte)'1'))
                throw new InvalidDataException(
                    $"'{path}' line {lineNumber}: value '{System.Text.Encoding.ASCII.GetString(token)}' is not 0 or 1 (not a binarised .amat file?)");
            if (count == valuesPerLine)
                throw new InvalidDataException($"'{path}' line {lineNumber} has more than {valuesPerLine} values");
            values[count++] = (byte)(token[0] - '0');
        }
        if (count != valuesPerLine)
            throw new InvalidDataException($"'{path}' line {lineNumber} has {count} values, expected {valuesPerLine}");
        return values;
    }
}
