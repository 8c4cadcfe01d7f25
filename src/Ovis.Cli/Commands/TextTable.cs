namespace Ovis.Cli.Commands;

/// <summary>A plain aligned text table for terminal output.</summary>
public sealed class TextTable
{
    private readonly string[] headers;
    private readonly List<string[]> rows = new();

    /// <summary>Create a table with the given column headers.</summary>
    public TextTable(params string[] headers) => this.headers = headers;

    /// <summary>Add a row (as many cells as headers).</summary>
    public void Add(params string[] cells) => rows.Add(cells);

    /// <summary>Write the table with columns padded to their widest cell.</summary>
    public void Write(TextWriter writer)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
        writer.WriteLine(Line(headers));
        writer.WriteLine(Line(widths.Select(w => new string('-', w)).ToArray()));
        foreach (var row in rows) writer.WriteLine(Line(row));
    }
}
