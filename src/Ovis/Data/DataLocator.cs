namespace Ovis.Data;

/// <summary>A folder searched for data files, with where it came from (for messages).</summary>
/// <param name="Path">the folder.</param>
/// <param name="Origin">"--data-dir", "OVIS_DATA_DIR", "user cache" or "system".</param>
public sealed record DataRoot(string Path, string Origin);

/// <summary>The files of a data set found on disk.</summary>
/// <param name="Spec">the data set.</param>
/// <param name="Directory">the folder holding them.</param>
/// <param name="Origin">which search root it was found under.</param>
/// <param name="Files">file path by role.</param>
public sealed record LocatedDataset(DatasetSpec Spec, string Directory, string Origin, IReadOnlyDictionary<string, string> Files);

/// <summary>
/// Resolves where a data set's files are, in this order: the <c>--data-dir</c> folder, the folder in the environment
/// variable <c>OVIS_DATA_DIR</c>, the per-user cache (<c>$XDG_CACHE_HOME/ovis</c>, else <c>~/.cache/ovis</c>), then
/// the data set's system folders (e.g. /usr/share/datasets/fashion-mnist). Each root is searched with the layout
/// of one folder per data set (<c>&lt;root&gt;/&lt;folder&gt;/&lt;file&gt;[.gz]</c>, e.g. <c>&lt;root&gt;/mnist/train-images-idx3-ubyte.gz</c>)
/// and flat (<c>&lt;root&gt;/&lt;file&gt;[.gz]</c>); a folder counts only if it holds every file of the data set.
/// Downloads go to the first of --data-dir, OVIS_DATA_DIR and the user cache.
/// </summary>
public sealed class DataLocator
{
    /// <summary>Name of the environment variable naming a data folder.</summary>
    public const string EnvironmentVariable = "OVIS_DATA_DIR";

    private readonly string? dataDirectory;
    private readonly Func<string, string?> environment;

    /// <summary>Create a locator.</summary>
    /// <param name="dataDirectory">the --data-dir option, or null.</param>
    /// <param name="environment">reads an environment variable (default: the process environment; tests inject their own).</param>
    public DataLocator(string? dataDirectory = null, Func<string, string?>? environment = null)
    {
        this.dataDirectory = string.IsNullOrWhiteSpace(dataDirectory) ? null : Path.GetFullPath(dataDirectory);
        this.environment = environment ?? Environment.GetEnvironmentVariable;
    }

    /// <summary>The per-user cache folder: $XDG_CACHE_HOME/ovis, else $HOME/.cache/ovis.</summary>
    public string UserCacheDirectory
    {
        get
        {
            var xdg = environment("XDG_CACHE_HOME");
            if (!string.IsNullOrWhiteSpace(xdg)) return Path.Combine(xdg, "ovis");
            var home = environment("HOME");
            if (string.IsNullOrWhiteSpace(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".cache", "ovis");
        }
    }

    /// <summary>The search roots in order (without the data set's system folders).</summary>
    public IReadOnlyList<DataRoot> Roots
    {
        get
        {
            var roots = new List<DataRoot>();
            if (dataDirectory is not null) roots.Add(new DataRoot(dataDirectory, "--data-dir"));
            var env = environment(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(env)) roots.Add(new DataRoot(Path.GetFullPath(env), EnvironmentVariable));
            roots.Add(new DataRoot(UserCacheDirectory, "user cache"));
            return roots;
        }
    }

    /// <summary>Where <c>ovis data fetch</c> stores a data set: &lt;first root&gt;/&lt;folder&gt;.</summary>
    public string DownloadDirectory(DatasetSpec spec) => Path.Combine(Roots[0].Path, spec.Folder);

    /// <summary>The folders that would be searched for <paramref name="spec"/>, in order.</summary>
    public IReadOnlyList<(string Directory, string Origin)> CandidateDirectories(DatasetSpec spec)
    {
        var result = new List<(string, string)>();
        foreach (var root in Roots)
        {
            result.Add((Path.Combine(root.Path, spec.Folder), root.Origin));
            result.Add((root.Path, root.Origin));
        }
        foreach (var system in spec.SystemFolders) result.Add((system, "system"));
        return result;
    }

    /// <summary>Find the data set, or return null.</summary>
    public LocatedDataset? TryLocate(DatasetSpec spec)
    {
        foreach (var (directory, origin) in CandidateDirectories(spec))
        {
            var files = new Dictionary<string, string>();
            foreach (var file in spec.Files)
            {
                var path = FindFile(directory, file.FileName);
                if (path is null) break;
                files[file.Role] = path;
            }
            if (files.Count == spec.Files.Count) return new LocatedDataset(spec, directory, origin, files);
        }
        return null;
    }

    /// <summary>Find the data set or throw a <see cref="FileNotFoundException"/> saying where it looked and how to supply the files.</summary>
    public LocatedDataset Locate(DatasetSpec spec)
        => TryLocate(spec) ?? throw new FileNotFoundException(
            $"data set '{spec.Name}' not found; searched {string.Join(", ", CandidateDirectories(spec).Select(c => $"{c.Directory} ({c.Origin})"))}. " +
            $"To supply it: {spec.HowToSupply}");

    /// <summary>&lt;directory&gt;/&lt;name&gt;.gz if it exists, else &lt;directory&gt;/&lt;name&gt;, else null.</summary>
    public static string? FindFile(string directory, string fileName)
    {
        var gz = Path.Combine(directory, fileName + ".gz");
        if (File.Exists(gz)) return gz;
        var raw = Path.Combine(directory, fileName);
        return File.Exists(raw) ? raw : null;
    }
}
