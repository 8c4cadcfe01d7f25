using System.Text.Json;
using Ovis.Catalog;
using Ovis.Estimators;

namespace Ovis.Training;

/// <summary>
/// A training run as the command line describes it: the loop's <see cref="TrainerSettings"/> plus the names the
/// model, its data and the estimator are built from (<see cref="ModelCatalog"/>, <see cref="EstimatorRegistry"/>).
/// Written to <c>DIR/config.json</c> at the start of a run and read back by <c>--resume</c>, so a resumed run
/// continues with exactly the same settings.
/// </summary>
public sealed record TrainingConfiguration : TrainerSettings
{
    /// <summary>The catalog name of the model (<c>ovis train --model</c>).</summary>
    public string Model { get; init; } = "gmm";
    /// <summary>The estimator id (see <see cref="EstimatorRegistry"/>).</summary>
    public string Estimator { get; init; } = "ovis-gamma1";
    /// <summary>The image data set of the image models (<c>mnist</c>, <c>fashion-mnist</c>, <c>binarized-mnist</c>; ignored by the synthetic ones).</summary>
    public string Dataset { get; init; } = "mnist";
    /// <summary>The data folder searched first (--data-dir), or null for OVIS_DATA_DIR, the cache and the system folders.</summary>
    public string? DataDirectory { get; init; }
    /// <summary>Binarisation: <c>default</c> (dynamic for MNIST, threshold ≥ 128 for Fashion), <c>dynamic</c>, <c>static</c>, <c>threshold</c>.</summary>
    public string Binarization { get; init; } = "default";
    /// <summary>Layer sizes of the model, as the model's catalog entry reads them (e.g. the SBN's stochastic layers).</summary>
    public int[] Layers { get; init; } = Array.Empty<int>();
    /// <summary>Device name (<c>cpu</c>, <c>cuda:0</c> with a CUDA build of TorchSharp).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>The model's catalog entry (an unknown name gives an error listing the known ones).</summary>
    public ModelEntry ModelEntry() => ModelCatalog.Get(Model);

    /// <summary>
    /// Check every value: the loop's settings, the estimator id and K, and what the model's catalog entry requires
    /// (its options, reparameterisation for pathwise estimators, its data set's name), with a message naming the
    /// option and what would be right. Nothing is loaded or built.
    /// </summary>
    public override void Validate()
    {
        var entry = ModelEntry();
        base.Validate();
        var estimator = EstimatorRegistry.Create(Estimator);
        estimator.ValidateParticles(Particles);
        estimator.CheckModel(entry.CanReparameterize, Model);
        entry.Validate(this);
        MemoryEstimate.Check(entry.EstimateBytes(this),
            $"a run of model '{Model}' with K = {Particles}, M = {OuterSamples}, batch {BatchSize}" +
            (GradientEvery > 0 ? $", gradient probe on {GradientBatchSize} points" : "") + (Layers.Length > 0 ? ", layers " + string.Join(",", Layers) : ""),
            ParticleChunk == 0 ? MemoryEstimate.DefaultWayOut + ", or score the particles a chunk at a time (--particle-chunk C)" : MemoryEstimate.DefaultWayOut);
    }

    /// <inheritdoc />
    protected override IEnumerable<string> LocationOnlyProperties() => new[] { "data_directory", "device" };

    /// <summary>Read from JSON (config.json).</summary>
    public static TrainingConfiguration FromJson(string json)
        => JsonSerializer.Deserialize<TrainingConfiguration>(json, Json) ?? throw new InvalidDataException("config.json is empty");
}
