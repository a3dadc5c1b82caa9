using BenchmarkDotNet.Running;

// `dotnet run -c Release --project src/DistSysActors.Benchmarks -- --filter '*' --job short` (docs/benchmarks.md).
BenchmarkSwitcher.FromAssembly(typeof(DistSysActors.Benchmarks.RaftSerializationBenchmarks).Assembly).Run(args);
