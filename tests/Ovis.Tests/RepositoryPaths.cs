namespace Ovis.Tests;

/// <summary>Locates the repository root (the folder holding Ovis.slnx) and the shared data beside it.</summary>
internal static class RepositoryPaths
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ovis.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException($"no Ovis.slnx above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>../shared/data beside the checkout (CI always provides it).</summary>
    public static string SharedData
    {
        get
        {
            var path = Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));
            return Directory.Exists(path) ? path
                : throw new InvalidOperationException($"the shared data folder {path} is missing: it must stand beside the checkout as ../shared/data");
        }
    }
}
