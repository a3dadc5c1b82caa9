using Akka.Actor;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using DistSysActors.Core.Ping;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.Ping;
using DistSysActors.Actors.Raft;
using DistSysActors.Actors.ReliableDelivery;
using DistSysActors.Actors.Serialization;
using DistSysActors.Actors.Tests.Clocks;
using DistSysActors.Actors.Tests.FailureDetection;
using DistSysActors.Actors.Tests.Network;
using DistSysActors.Actors.Tests.Persistence;
using DistSysActors.Actors.Tests.Ping;
using DistSysActors.Actors.Tests.Raft;
using DistSysActors.Actors.Tests.ReliableDelivery;
using DistSysActors.Core;
using DistSysActors.Core.Paxos;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.FailureDetection;
using DistSysActors.Core.Raft;
using DistSysActors.Core.ReliableDelivery;

namespace DistSysActors.Actors.Tests.Serialization;

/// <summary>
/// Every type that crosses between nodes or is persisted (marked <see cref="IWireSerialized"/> in the Core and Actors
/// assemblies) gets one of the binary serializers from Akka under the reference configuration, never the JSON fallback,
/// and every binary serializer's types have fixed reference bytes.
/// </summary>
public sealed class WireBindingCoverageSpec() : TestKit(DistSysConfig.Reference)
{
    /// <summary>Every concrete marked type, found by reflection so a new message type cannot be forgotten.</summary>
    public static IReadOnlyList<Type> WireTypes { get; } =
        new[] { typeof(IWireSerialized).Assembly, typeof(BinarySerializer).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => typeof(IWireSerialized).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();

    private static IEnumerable<Type> SerializerTypes => typeof(BinarySerializer).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(BinarySerializer)) && !t.IsAbstract);

    [Fact]
    public void Every_protocol_base_and_persisted_type_carries_the_marker()
    {
        // Removing the marker from a base would silently drop its whole family from the check below.
        Type[] expected =
        [
            typeof(RaftMessage), typeof(RaftEvent), typeof(RaftStateSnapshot), typeof(NetworkProtocol.WireMessage),
            typeof(HeartbeatMessage), typeof(NtpMessage), typeof(BerkeleyMessage), typeof(CristianMessage), typeof(PingProtocol.PingMessage),
            typeof(DeliveryMessage), typeof(OutboxEvent), typeof(OutboxSnapshot), typeof(MessageProcessed), typeof(DeliveryReceiverSnapshot),
            typeof(IncarnationActor.Started), typeof(MultiPaxos.Message), typeof(MultiPaxos.AcceptedRecord), typeof(MultiPaxos.PersistentState),
            typeof(RegisterPaxos.RegisterMessage), typeof(RegisterPaxos.AcceptorRecord), typeof(RegisterPaxos.RoleSnapshot),
            typeof(Core.Gossip.SwimMessage), typeof(Core.Gossip.AntiEntropyMessage), typeof(Core.Gossip.ApEntry), typeof(Core.Gossip.ApSnapshot),
            typeof(Core.Transactions.Txn.TxnMessage), typeof(Core.Transactions.Txn.PreparedRecord), typeof(Core.Transactions.Txn.BeginRecord), typeof(Core.Transactions.Txn.TxnSnapshot),
            typeof(Core.Transactions.Replicated.ReplTxn.ReplTxnMessage), typeof(Core.Transactions.Replicated.ReplTxn.GroupRaftWrite), typeof(Core.Transactions.Replicated.ReplTxn.RecordBatch),
            typeof(DistSysActors.Core.Election.BullyProtocol.BullyMessage),
            typeof(DistSysActors.Actors.Election.Singleton.SingletonProtocol.SingletonMessage),
            typeof(DistSysActors.Actors.Hosting.SeenProbe.SeenMessage),
        ];
        Assert.Empty(expected.Where(t => !typeof(IWireSerialized).IsAssignableFrom(t)).Select(t => t.Name));
        Assert.True(WireTypes.Count >= 35, $"found only {WireTypes.Count} marked types");
    }

    [Fact]
    public void Every_type_that_crosses_nodes_or_is_persisted_has_a_binary_serializer()
    {
        var missing = new List<string>();
        foreach (var type in WireTypes)
        {
            var serializer = Sys.Serialization.FindSerializerForType(type);
            if (serializer is NewtonSoftJsonSerializer || serializer is not BinarySerializer binary)
                missing.Add($"{type.FullName} is bound to {serializer.GetType().Name} (id {serializer.Identifier})");
            else if (!binary.TypeManifests.ContainsKey(type))
                missing.Add($"{type.FullName} is bound to {binary.GetType().Name}, whose table does not list it");
        }
        Assert.True(missing.Count == 0, "types without a binary binding:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Every_binary_serializer_is_configured_under_its_id_and_lists_only_marked_types()
    {
        var configured = WireTypes.Select(t => Sys.Serialization.FindSerializerForType(t)).OfType<BinarySerializer>()
            .DistinctBy(s => s.GetType()).ToDictionary(s => s.GetType());
        foreach (var type in SerializerTypes)
        {
            Assert.True(configured.TryGetValue(type, out var serializer), $"{type.Name} serializes none of the marked types under the reference configuration");
            Assert.Equal(type.GetField("Id")!.GetValue(null), serializer.Identifier);
            Assert.Empty(serializer.TypeManifests.Keys.Where(t => !typeof(IWireSerialized).IsAssignableFrom(t)).Select(t => t.Name));
        }
        var ids = configured.Values.Select(s => s.Identifier).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.InRange(id, 4170, 4189));
    }

    [Fact]
    public void Every_type_of_every_binary_serializer_has_reference_bytes()
    {
        var cases = RaftReferenceBytesSpec.Cases
            .Concat(WireMessageReferenceBytesSpec.Cases)
            .Concat(HeartbeatReferenceBytesSpec.Cases)
            .Concat(ClockReferenceBytesSpec.Cases)
            .Concat(PingReferenceBytesSpec.Cases)
            .Concat(DeliveryReferenceBytesSpec.Cases)
            .Concat(IncarnationReferenceBytesSpec.Cases)
            .Concat(Paxos.PaxosReferenceBytesSpec.Cases)
            .Concat(Gossip.GossipReferenceBytesSpec.Cases)
            .Concat(Transactions.TxnReferenceBytesSpec.Cases)
            .Concat(Transactions.ReplTxnReferenceBytesSpec.Cases)
            .Concat(Election.BullyReferenceBytesSpec.Cases)
            .Concat(Election.SingletonReferenceBytesSpec.Cases)
            .Concat(LogPipeline.LogReferenceBytesSpec.Cases)
            .Concat(Hosting.SeenProbeReferenceBytesSpec.Cases)
            .Select(c => (c.SerializerId, c.Value.GetType(), c.Manifest))
            .ToHashSet();
        var serializers = SerializerTypes.Select(t => (BinarySerializer)Activator.CreateInstance(t, (ExtendedActorSystem)Sys)!).ToList();
        var missing = serializers
            .SelectMany(s => s.TypeManifests.Select(kv => (s.Identifier, kv.Key, kv.Value)))
            .Where(entry => !cases.Contains(entry))
            .Select(entry => $"{entry.Key.Name} (serializer {entry.Identifier}, manifest {entry.Value})")
            .ToList();
        Assert.True(missing.Count == 0, "types without reference bytes:\n" + string.Join("\n", missing));
    }
}
