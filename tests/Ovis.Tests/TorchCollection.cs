namespace Ovis.Tests;

/// <summary>Tests that touch TorchSharp's global state (seeds, threads, default dtype) run one at a time.</summary>
[CollectionDefinition("Torch", DisableParallelization = true)]
public class TorchCollection { }
