namespace Ovis.Tests;
public class SmokeTests { [Fact] public void TorchLoads() => Assert.StartsWith("2.10", TorchSharp.torch.__version__); }
