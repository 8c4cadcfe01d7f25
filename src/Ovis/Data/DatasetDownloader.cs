using System.Net.Http;

namespace Ovis.Data;

/// <summary>
/// Checked downloads of a data set's files (docs/design.md, Data/): each file is fetched from the first mirror that
/// answers, into a temporary file beside its destination; its decompressed payload must have the SHA-256 of the
/// registry before the temporary file is renamed into place. A failed, slow or corrupt download therefore leaves
/// no file behind, and a damaged mirror is skipped in favour of the next one.
/// </summary>
public sealed class DatasetDownloader
{
    private readonly HttpClient client;
    private readonly TextWriter? log;

    /// <summary>Create a downloader.</summary>
    /// <param name="client">the HTTP client (default: a new one; its own timeout is disabled in favour of <paramref name="timeout"/>).</param>
    /// <param name="timeout">the longest one file's download may take, per mirror (default 5 minutes).</param>
    /// <param name="log">where to report progress, or null.</param>
    public DatasetDownloader(HttpClient? client = null, TimeSpan? timeout = null, TextWriter? log = null)
    {
        this.client = client ?? new HttpClient { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        Timeout = timeout ?? TimeSpan.FromMinutes(5);
        if (Timeout <= TimeSpan.Zero) throw new ArgumentException($"the download timeout must be positive, got {Timeout}");
        this.log = log;
    }

    /// <summary>The longest one file's download may take from one mirror.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>
    /// Make sure every file of <paramref name="spec"/> is in <paramref name="directory"/> with the right digest,
    /// downloading the missing or damaged ones. Returns the file path by role.
    /// </summary>
    /// <param name="spec">the data set (must be <see cref="DatasetSpec.Downloadable"/>).</param>
    /// <param name="directory">destination folder (created if needed).</param>
    /// <param name="mirrors">base URLs to try in order (null: the registry's mirrors).</param>
    /// <param name="cancellation">cancels the whole fetch.</param>
    /// <exception cref="NotSupportedException">the data set cannot be downloaded (no digests): the message says how to supply it.</exception>
    /// <exception cref="IOException">no mirror delivered a verified file.</exception>
    public async Task<IReadOnlyDictionary<string, string>> FetchAsync(DatasetSpec spec, string directory, IReadOnlyList<string>? mirrors = null,
                                                                      CancellationToken cancellation = default)
    {
        if (spec.Files.Any(f => f.Sha256 is null))
            throw new NotSupportedException($"{spec.Name} cannot be downloaded by Ovis: {spec.HowToSupply}");
        mirrors = mirrors is { Count: > 0 } ? mirrors : spec.Mirrors;
        if (mirrors.Count == 0) throw new NotSupportedException($"{spec.Name} has no download mirror: {spec.HowToSupply}");
        Directory.CreateDirectory(directory);
        var result = new Dictionary<string, string>();
        foreach (var file in spec.Files)
        {
            var existing = DataLocator.FindFile(directory, file.FileName);
            if (existing is not null && HasDigest(existing, file.Sha256!))
            {
                log?.WriteLine($"{file.FileName}: present and verified ({existing})");
                result[file.Role] = existing;
                continue;
            }
            result[file.Role] = await DownloadAsync(file, directory, mirrors, cancellation).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>Synchronous form of <see cref="FetchAsync"/>.</summary>
    public IReadOnlyDictionary<string, string> Fetch(DatasetSpec spec, string directory, IReadOnlyList<string>? mirrors = null)
        => FetchAsync(spec, directory, mirrors).GetAwaiter().GetResult();

    /// <summary>
    /// Download one file from the first mirror that delivers its verified payload, store it as
    /// &lt;directory&gt;/&lt;name&gt;.gz (or without .gz if the mirror served it uncompressed) and return the path.
    /// </summary>
    public async Task<string> DownloadAsync(DataFileSpec file, string directory, IReadOnlyList<string> mirrors, CancellationToken cancellation = default)
    {
        if (file.Sha256 is null) throw new NotSupportedException($"{file.FileName} has no known SHA-256, so a download could not be verified");
        var failures = new List<string>();
        foreach (var mirror in mirrors)
        {
            var url = mirror.TrimEnd('/') + "/" + file.FileName + ".gz";
            var temporary = Path.Combine(directory, $".{file.FileName}.{Guid.NewGuid():N}.part");
            try
            {
                log?.WriteLine($"{file.FileName}: downloading {url}");
                await DownloadToAsync(url, temporary, cancellation).ConfigureAwait(false);
                var content = await File.ReadAllBytesAsync(temporary, cancellation).ConfigureAwait(false);
                var payload = DataFilePayload.Decode(content, url);
                var digest = DataFilePayload.Sha256(payload);
                if (digest != file.Sha256)
                    throw new InvalidDataException($"checksum failure: the decompressed payload has SHA-256 {digest}, expected {file.Sha256}");
                var destination = Path.Combine(directory, DataFilePayload.IsGzip(content) ? file.FileName + ".gz" : file.FileName);
                File.Move(temporary, destination, overwrite: true);   // atomic within one file system
                var stale = DataFilePayload.IsGzip(content) ? Path.Combine(directory, file.FileName) : Path.Combine(directory, file.FileName + ".gz");
                if (File.Exists(stale)) File.Delete(stale);            // a damaged copy under the other name would shadow or confuse
                log?.WriteLine($"{file.FileName}: verified SHA-256 {digest} -> {destination}");
                return destination;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException or TaskCanceledException or OperationCanceledException
                                          && !cancellation.IsCancellationRequested)
            {
                string reason = e is OperationCanceledException ? $"timed out after {Timeout.TotalSeconds:0.###} s" : e.Message;
                failures.Add($"{url}: {reason}");
                log?.WriteLine($"{file.FileName}: failed from {url}: {reason}");
            }
            finally
            {
                if (File.Exists(temporary)) File.Delete(temporary);
            }
        }
        throw new IOException($"could not download a verified {file.FileName}: {string.Join("; ", failures)}");
    }

    private async Task DownloadToAsync(string url, string temporary, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(Timeout);
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        await using var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        long? expected = response.Content.Headers.ContentLength;
        try
        {
            await body.CopyToAsync(output, timeout.Token).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new IOException($"truncated download: the connection ended after {output.Length} of {(expected?.ToString() ?? "?")} bytes ({e.Message})", e);
        }
        if (expected is long length && output.Length != length)
            throw new IOException($"truncated download: received {output.Length} of {length} bytes");
    }

    /// <summary>True when the payload of <paramref name="path"/> has the given SHA-256 (false for an unreadable or damaged file).</summary>
    public static bool HasDigest(string path, string sha256)
    {
        try { return DataFilePayload.Sha256(path) == sha256; }
        catch (InvalidDataException) { return false; }
    }
}
