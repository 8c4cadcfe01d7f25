using BenchmarkDotNet.Running;
using Ovis.Runtime;

// Apply the allocator fix before any tensor exists, as the CLI does; then let BenchmarkDotNet pick the benchmarks:
//   dotnet run -c Release --project bench/Ovis.Benchmarks -- --filter '*' --inProcess        (--job short for a quick look)
// --inProcess: a child process started by BenchmarkDotNet does not find TorchSharp's native library
// (DllNotFoundException for LibTorchSharp), and in this process the allocator fix above applies.
OvisRuntime.Initialize(threads: 2);
BenchmarkSwitcher.FromAssembly(typeof(Ovis.Benchmarks.LeaveOneOutBenchmarks).Assembly).Run(args);
