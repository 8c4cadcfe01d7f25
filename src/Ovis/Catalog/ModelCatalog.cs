namespace Ovis.Catalog;

/// <summary>
/// The models Ovis knows by name: the one registry the trainer's command line, the benchmark, the experiment runner
/// and the reports consult (<c>gmm</c>, <c>gaussian-toy</c>, <c>sbn</c>, <c>vae</c>, <c>vae-tvo</c>). Further models
/// are added with <see cref="Register"/>.
/// </summary>
public static class ModelCatalog
{
    private static readonly List<ModelEntry> entries = new()
    {
        new GaussianMixtureEntry(),
        new GaussianToyEntry(),
        new SigmoidBeliefNetworkEntry(),
        new GaussianVaeEntry(),
        new TvoGaussianVaeEntry(),
    };

    /// <summary>Every registered entry, in registration order.</summary>
    public static IReadOnlyList<ModelEntry> Entries
    {
        get { lock (entries) return entries.ToArray(); }
    }

    /// <summary>The registered names.</summary>
    public static IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

    /// <summary>Add a model (a name already registered is refused).</summary>
    public static void Register(ModelEntry entry)
    {
        lock (entries)
        {
            if (entries.Any(e => e.Name == entry.Name)) throw new ArgumentException($"model '{entry.Name}' is registered already");
            entries.Add(entry);
        }
    }

    /// <summary>The entry named <paramref name="name"/>; an unknown name gives an error listing the known ones.</summary>
    public static ModelEntry Get(string name)
        => Entries.FirstOrDefault(e => e.Name == name)
           ?? throw new ArgumentException($"unknown model '{name}'; known models: {string.Join(", ", Names)}");
}
