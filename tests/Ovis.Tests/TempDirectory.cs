namespace Ovis.Tests;

/// <summary>A fresh directory under the system temp folder, removed after the test.</summary>
public sealed class TempDirectory : IDisposable
{
    /// <summary>Create the directory.</summary>
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ovis-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>A path inside the directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Write <paramref name="content"/> to &lt;directory&gt;/<paramref name="relative"/> (creating its folders) and return the full path.</summary>
    public string Write(string relative, byte[] content)
    {
        var path = File(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Write <paramref name="text"/> (UTF-8) to &lt;directory&gt;/<paramref name="relative"/> and return the full path.</summary>
    public string Write(string relative, string text) => Write(relative, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Delete the directory.</summary>
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
