using System.Collections.Immutable;
using Akka.Actor;
using Akka.Serialization;
using BenchmarkDotNet.Attributes;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Raft;
using DistSysActors.Core;
using DistSysActors.Core.Raft;

namespace DistSysActors.Benchmarks;

/// <summary>A full replication batch (64 entries of 256 bytes) through the binary serializer and through Akka's default JSON one.</summary>
[MemoryDiagnoser]
public class RaftSerializationBenchmarks
{
    private const int EntryCount = 64;
    private const int EntryBytes = 256;

    private ActorSystem _system = null!;
    private RaftSerializer _binary = null!;
    private NewtonSoftJsonSerializer _json = null!;
    private AppendEntries _message = null!;
    private byte[] _binaryBytes = null!;
    private byte[] _jsonBytes = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench", DistSysConfig.Reference);
        _binary = (RaftSerializer)_system.Serialization.FindSerializerForType(typeof(AppendEntries));
        _json = new NewtonSoftJsonSerializer((ExtendedActorSystem)_system);
        var random = new Random(42);
        var entries = Enumerable.Range(1, EntryCount).Select(i =>
        {
            var data = new byte[EntryBytes];
            random.NextBytes(data);
            return new LogEntry(1000 + i, 7, EntryType.Normal, data);
        }).ToImmutableArray();
        _message = new AppendEntries(new NodeId(1), new NodeId(2), 7, 1000, 7, entries, 1000);
        _binaryBytes = _binary.ToBinary(_message);
        _jsonBytes = _json.ToBinary(_message);
        Console.WriteLine($"// AppendEntries {EntryCount} x {EntryBytes} B: binary {_binaryBytes.Length} B, JSON {_jsonBytes.Length} B");
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    [Benchmark(Baseline = true)]
    public byte[] SerializeJson() => _json.ToBinary(_message);

    [Benchmark]
    public byte[] SerializeBinary() => _binary.ToBinary(_message);

    [Benchmark]
    public object DeserializeJson() => _json.FromBinary(_jsonBytes, typeof(AppendEntries));

    [Benchmark]
    public object DeserializeBinary() => _binary.FromBinary(_binaryBytes, "AE");
}
