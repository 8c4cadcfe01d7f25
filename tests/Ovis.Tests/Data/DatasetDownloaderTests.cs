using System.Diagnostics;
using Ovis.Data;

namespace Ovis.Tests.Data;

/// <summary>Downloads from a local HTTP server on 127.0.0.1 serving fixture files — never the internet.</summary>
public class DatasetDownloaderTests
{
    private static readonly byte[] TrainImages = DataFixtures.Images(40, 4, 4, seed: 1);
    private static readonly byte[] TrainLabels = DataFixtures.Labels(40);
    private static readonly byte[] TestImages = DataFixtures.Images(10, 4, 4, seed: 2);
    private static readonly byte[] TestLabels = DataFixtures.Labels(10);

    private static DatasetSpec Spec(params string[] mirrors)
        => DataFixtures.Spec("toy", TrainImages, TrainLabels, TestImages, TestLabels, ValidationSplit.Test, 0, 40, 10, mirrors);

    private static readonly (string Name, byte[] Payload)[] Files =
    {
        ("train-images-idx3-ubyte", TrainImages), ("train-labels-idx1-ubyte", TrainLabels),
        ("t10k-images-idx3-ubyte", TestImages), ("t10k-labels-idx1-ubyte", TestLabels),
    };

    private static void ServeAll(FixtureHttpServer server, string folder, Func<byte[], byte[]>? transform = null, Delivery delivery = Delivery.Whole)
    {
        foreach (var (name, payload) in Files) server.Serve($"{folder}/{name}.gz", (transform ?? (b => b))(DataFixtures.Gzip(payload)), delivery);
    }

    private static string[] Leftovers(string directory) => Directory.Exists(directory) ? Directory.GetFiles(directory) : Array.Empty<string>();

    [Fact]
    public void GoodMirrorDeliversVerifiedFilesThatLoad()
    {
        using var server = new FixtureHttpServer();
        using var dir = new TempDirectory();
        ServeAll(server, "good");
        var log = new StringWriter();
        var target = Path.Combine(dir.Path, "toy");
        var paths = new DatasetDownloader(timeout: TimeSpan.FromSeconds(20), log: log).Fetch(Spec(server.Url("good/")), target);
        Assert.Equal(4, paths.Count);
        Assert.Equal(Path.Combine(target, "train-images-idx3-ubyte.gz"), paths["train-images"]);
        Assert.Equal(4, Leftovers(target).Length);                                 // no temporary files
        Assert.Equal(TrainImages, DataFilePayload.Read(paths["train-images"]));
        using var scope = TorchSharp.torch.NewDisposeScope();
        var data = DatasetLoader.Load(new DataLocator(dir.Path, _ => null).Locate(Spec()));
        Assert.Equal(40, data.Train.Count);
        // A second fetch finds the verified files and does not download again.
        int requests = server.Requests.Count;
        new DatasetDownloader(timeout: TimeSpan.FromSeconds(20), log: log).Fetch(Spec(server.Url("good/")), target);
        Assert.Equal(requests, server.Requests.Count);
        Assert.Contains("present and verified", log.ToString());
    }

    [Theory]
    [InlineData("truncated")]     // an honest but short file: the gzip trailer no longer matches
    [InlineData("cut-short")]     // the connection closes before Content-Length bytes arrived
    [InlineData("corrupted")]     // bytes flipped in the deflate data
    [InlineData("wrong")]         // a valid gzip IDX file with other content: checksum failure
    [InlineData("missing")]       // 404
    public void BadDownloadsFailClearlyAndLeaveNoFile(string kind)
    {
        using var server = new FixtureHttpServer();
        using var dir = new TempDirectory();
        switch (kind)
        {
            case "truncated": ServeAll(server, kind, gz => gz[..(gz.Length * 2 / 3)]); break;
            case "cut-short": ServeAll(server, kind, null, Delivery.CutShort); break;
            case "corrupted": ServeAll(server, kind, gz => { var c = (byte[])gz.Clone(); for (int i = 12; i < Math.Min(32, c.Length - 8); i++) c[i] ^= 0x33; return c; }); break;
            case "wrong":
                foreach (var (name, _) in Files) server.Serve($"{kind}/{name}.gz", DataFixtures.Gzip(DataFixtures.Images(40, 4, 4, seed: 77)));
                break;
        }
        var target = Path.Combine(dir.Path, "toy");
        var e = Assert.Throws<IOException>(() => new DatasetDownloader(timeout: TimeSpan.FromSeconds(20)).Fetch(Spec(server.Url(kind + "/")), target));
        Assert.Contains("could not download a verified train-images-idx3-ubyte", e.Message);
        Assert.Contains(server.Url(kind + "/train-images-idx3-ubyte.gz"), e.Message);
        string expected = kind switch
        {
            "truncated" => "truncated or corrupted",
            "cut-short" => "truncated download: the connection ended after",
            "corrupted" => "corrupted",
            "wrong" => "checksum failure",
            _ => "HTTP 404",
        };
        Assert.True(e.Message.Contains(expected), e.Message);
        Assert.Empty(Leftovers(target));
    }

    [Fact]
    public void SlowMirrorTimesOutAndTheNextMirrorIsUsed()
    {
        using var server = new FixtureHttpServer();
        using var dir = new TempDirectory();
        ServeAll(server, "slow", null, Delivery.Stall);
        ServeAll(server, "good");
        var target = Path.Combine(dir.Path, "toy");
        var downloader = new DatasetDownloader(timeout: TimeSpan.FromSeconds(0.5));
        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<IOException>(() => downloader.Fetch(Spec(server.Url("slow/")), target));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the 0.5 s timeout was not respected: {watch.Elapsed}");
        Assert.Contains("timed out after 0.5 s", e.Message);
        Assert.Empty(Leftovers(target));
        // With a second mirror, every file comes from it after the first one stalls.
        var paths = downloader.Fetch(Spec(server.Url("slow/"), server.Url("good/")), target);
        Assert.Equal(4, paths.Count);
        Assert.Equal(4, Leftovers(target).Length);
        Assert.Contains("/good/t10k-labels-idx1-ubyte.gz", server.Requests);
    }

    [Fact]
    public void LoadingDownloadsIntoTheUserCacheOnlyWhenAllowedAndMissing()
    {
        using var server = new FixtureHttpServer();
        using var home = new TempDirectory();
        ServeAll(server, "good");
        var locator = new DataLocator(null, k => k == "XDG_CACHE_HOME" ? home.Path : null);
        var spec = Spec(server.Url("good/"));
        Assert.Throws<FileNotFoundException>(() => DatasetLoader.Load(spec, locator, null, downloader: null));
        Assert.Empty(server.Requests);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var data = DatasetLoader.Load(spec, locator, null, new DatasetDownloader(timeout: TimeSpan.FromSeconds(20)));
        Assert.Equal((40, 10), (data.Train.Count, data.Test.Count));
        Assert.Equal(Path.Combine(home.Path, "ovis", "toy", "train-images-idx3-ubyte.gz"), data.Sources["train-images"]);
        int requests = server.Requests.Count;
        DatasetLoader.Load(spec, locator, null, new DatasetDownloader(timeout: TimeSpan.FromSeconds(20)));
        Assert.Equal(requests, server.Requests.Count);                           // found in the cache the second time
    }

    [Fact]
    public void DamagedLocalFileIsReplacedByAVerifiedDownload()
    {
        using var server = new FixtureHttpServer();
        using var dir = new TempDirectory();
        ServeAll(server, "good");
        var target = Path.Combine(dir.Path, "toy");
        var damaged = dir.Write("toy/train-images-idx3-ubyte.gz", DataFixtures.Gzip(TrainImages)[..30]);
        Assert.False(DatasetDownloader.HasDigest(damaged, Spec().File("train-images").Sha256!));
        new DatasetDownloader(timeout: TimeSpan.FromSeconds(20)).Fetch(Spec(server.Url("good/")), target);
        Assert.True(DatasetDownloader.HasDigest(damaged, Spec().File("train-images").Sha256!));
    }
}
