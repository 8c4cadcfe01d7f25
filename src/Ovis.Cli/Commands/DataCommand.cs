using System.CommandLine;
using System.Globalization;
using Ovis.Data;
using TorchSharp;

namespace Ovis.Cli.Commands;

/// <summary>
/// <c>ovis data fetch|info|verify NAME</c>: download a data set with digest verification, describe its splits, or
/// check the digests of the files found locally (docs/design.md, Data/; docs/experiments.md §4).
/// </summary>
public static class DataCommand
{
    /// <summary>Build the command.</summary>
    public static Command Create()
    {
        var command = new Command("data", $"Data sets ({string.Join(", ", DatasetRegistry.All.Select(d => d.Name))}): fetch, info, verify");
        command.Subcommands.Add(Fetch());
        command.Subcommands.Add(Info());
        command.Subcommands.Add(Verify());
        return command;
    }

    private static Argument<string> NameArgument() => new("name") { Description = $"data set: {string.Join(", ", DatasetRegistry.All.Select(d => d.Name))}" };

    private static Option<string?> DataDirOption() => new("--data-dir")
    {
        Description = $"data folder searched first (then ${DataLocator.EnvironmentVariable}, then ~/.cache/ovis); fetch downloads into <data-dir>/<name>",
    };

    private static Command Fetch()
    {
        var name = NameArgument();
        var dataDir = DataDirOption();
        var mirror = new Option<string[]>("--mirror") { Description = "base URL to download from instead of the built-in mirrors (repeatable; tried in order)" };
        var timeout = new Option<double>("--timeout") { Description = "seconds allowed per file and mirror", DefaultValueFactory = _ => 300 };
        var command = new Command("fetch", "Download a data set (unless present), verifying the SHA-256 of each decompressed file before use");
        command.Arguments.Add(name);
        foreach (var option in new Option[] { dataDir, mirror, timeout }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var spec = DatasetRegistry.Get(parse.GetValue(name)!);
            var locator = new DataLocator(parse.GetValue(dataDir));
            if (!spec.Downloadable) throw new NotSupportedException(spec.HowToSupply);
            var seconds = parse.GetValue(timeout);
            if (!(seconds > 0)) throw new ArgumentException($"--timeout must be a positive number of seconds, got {seconds}");
            var existing = locator.TryLocate(spec);
            if (parse.GetValue(dataDir) is not null && existing?.Origin != "--data-dir") existing = null;   // asked to fetch into --data-dir
            if (existing is not null && spec.Files.All(f => DatasetDownloader.HasDigest(existing.Files[f.Role], f.Sha256!)))
            {
                Console.WriteLine($"{spec.Name}: present and verified in {existing.Directory} ({existing.Origin})");
                return 0;
            }
            var directory = locator.DownloadDirectory(spec);
            var mirrors = parse.GetValue(mirror) ?? Array.Empty<string>();
            var downloader = new DatasetDownloader(timeout: TimeSpan.FromSeconds(seconds), log: Console.Out);
            downloader.Fetch(spec, directory, mirrors);
            Console.WriteLine($"{spec.Name}: all {spec.Files.Count} files verified in {directory}");
            return 0;
        }));
        return command;
    }

    private static Command Info()
    {
        var name = NameArgument();
        var dataDir = DataDirOption();
        var command = new Command("info", "Describe a data set found locally: files, splits, sizes, class counts");
        command.Arguments.Add(name);
        command.Options.Add(dataDir);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var spec = DatasetRegistry.Get(parse.GetValue(name)!);
            var located = new DataLocator(parse.GetValue(dataDir)).Locate(spec);
            using var scope = TorchSharp.torch.NewDisposeScope();
            var dataset = DatasetLoader.Load(located);
            Console.WriteLine($"{spec.Name}: {spec.Description}");
            Console.WriteLine($"found in {located.Directory} ({located.Origin}); digests verified: {(spec.Files.All(f => f.Sha256 is not null) ? "yes" : "no published digests")}");
            foreach (var file in spec.Files) Console.WriteLine($"  {file.Role,-13} {located.Files[file.Role]}");
            Console.WriteLine($"binarisation: {spec.Binarization switch { BinarizationMode.Dynamic => "dynamic, Bernoulli(pixel/255) at every access", BinarizationMode.Threshold => "threshold, pixel >= 128", BinarizationMode.Static => "static", _ => "none (binary files)" }}");
            var table = new TextTable("split", "images", "shape", "pixels", "mean pixel", "class counts");
            foreach (var split in new[] { dataset.Train, dataset.Validation, dataset.Test })
            {
                using var splitScope = TorchSharp.torch.NewDisposeScope();
                double mean = split.Pixels.to(TorchSharp.torch.ScalarType.Float64).mean().ToDouble() / (split.IsBinary ? 1 : 255);
                var counts = split.ClassCounts();
                table.Add(split.Name + (split == dataset.Validation && dataset.ValidationIsTest ? " (= test)" : ""),
                    split.Count.ToString(CultureInfo.InvariantCulture), string.Join("x", split.ImageShape),
                    split.IsBinary ? "binary" : "grey 0-255", mean.ToString("F4", CultureInfo.InvariantCulture),
                    counts.Length == 0 ? "-" : string.Join("/", counts));
            }
            table.Write(Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Verify()
    {
        var name = NameArgument();
        var dataDir = DataDirOption();
        var command = new Command("verify", "Check the SHA-256 of every decompressed file of a data set found locally (exit 1 on a mismatch)");
        command.Arguments.Add(name);
        command.Options.Add(dataDir);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var spec = DatasetRegistry.Get(parse.GetValue(name)!);
            var located = new DataLocator(parse.GetValue(dataDir)).Locate(spec);
            Console.WriteLine($"{spec.Name} in {located.Directory} ({located.Origin})");
            var table = new TextTable("file", "SHA-256 of the decompressed payload", "status");
            bool allGood = true;
            foreach (var file in spec.Files)
            {
                var path = located.Files[file.Role];
                string digest, status;
                try
                {
                    var payload = DataFilePayload.Read(path);
                    digest = DataFilePayload.Sha256(payload);
                    if (file.Sha256 is null)
                    {
                        var (_, count) = AmatReader.Parse(payload, path, file.Count);
                        status = $"no published digest; {count} examples, format OK";
                    }
                    else status = digest == file.Sha256 ? "OK" : $"MISMATCH (expected {file.Sha256})";
                }
                catch (InvalidDataException e)
                {
                    digest = "-";
                    status = "DAMAGED: " + e.Message;
                }
                if (!status.StartsWith("OK", StringComparison.Ordinal) && !status.StartsWith("no published", StringComparison.Ordinal)) allGood = false;
                table.Add(Path.GetFileName(path), digest, status);
            }
            table.Write(Console.Out);
            return allGood ? 0 : 1;
        }));
        return command;
    }
}
