using BenchmarkDotNet.Running;

// `dotnet run -c Release --project src/DistSysActors.Benchmarks -- --filter '*' --job short` (docs/benchmarks.md);
// `... -- journal-latency --help` measures per-write journal latency without BenchmarkDotNet;
// `... -- protocol-cost [commands]` counts Raft's and Multi-Paxos' messages and journal writes per command in the simulator.
if (args.Length > 0 && args[0] == "protocol-cost") return DistSysActors.Benchmarks.ProtocolCost.Run(args[1..]);
if (args.Length > 0 && args[0] == "journal-latency") return await DistSysActors.Benchmarks.JournalLatency.RunAsync(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(DistSysActors.Benchmarks.RaftSerializationBenchmarks).Assembly).Run(args);
return 0;
