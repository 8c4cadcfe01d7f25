using BenchmarkDotNet.Running;
using Ovis.Runtime;

// Apply the allocator fix before any tensor exists, as the CLI does; then let BenchmarkDotNet pick the benchmarks:
//   dotnet run -c Release --project bench/Ovis.Benchmarks -- --filter '*'
OvisRuntime.Initialize(threads: 2);
BenchmarkSwitcher.FromAssembly(typeof(Ovis.Benchmarks.LeaveOneOutBenchmarks).Assembly).Run(args);
