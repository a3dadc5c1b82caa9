using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Raft;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Raft;
using DistSysActors.Actors.Tests.ReliableDelivery;
using DistSysActors.Core.ReliableDelivery;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>
/// Every Raft wire message and persisted event survives the binary serializer the reference configuration binds, alone
/// and inside the network envelope, as it must between processes and across restarts; bad input fails loudly.
/// </summary>
public sealed class RaftWireFormatSpec() : TestKit(DistSysConfig.TestOverlay.WithFallback(DistSysConfig.Reference))
{
    private static readonly NodeId A = new(1), B = new(7);
    private static readonly byte[] Large = Enumerable.Range(0, 1 << 20).Select(i => (byte)(i * 31)).ToArray();
    private static readonly ImmutableArray<LogEntry> Entries =
    [
        new(7, 3, EntryType.NoOp, []),
        new(8, 3, EntryType.Normal, [1, 2, 3, 255]),
        new(9, 4, EntryType.ConfChange, new ConfChange(ConfChangeType.AddLearner, new NodeId(4)).Encode()),
        new(long.MaxValue, long.MaxValue - 1, EntryType.Normal, Large),
    ];
    private static readonly Membership WithLearners = new([new NodeId(3), A, B], [new NodeId(9), new NodeId(4)]);

    /// <summary>Every message type and event, most with extreme or non-default values.</summary>
    public static IReadOnlyList<object> Samples { get; } =
    [
        new RequestVote(A, B, 5, 9, 4, PreVote: true),
        new RequestVote(B, A, long.MaxValue, 0, 0, PreVote: false, Transfer: true),
        new RequestVoteResponse(A, B, 5, Granted: true, PreVote: false),
        new RequestVoteResponse(A, B, 6, Granted: false, PreVote: true),
        new AppendEntries(A, B, 5, 6, 2, Entries, 8),
        new AppendEntries(A, B, 5, 0, 0, [], 0),
        new AppendEntriesResponse(A, B, 5, Success: false, MatchIndex: 0, RejectedIndex: 9, ConflictIndex: 4, ConflictTerm: 2),
        new AppendEntriesResponse(A, B, 5, Success: true, MatchIndex: 1L << 40, RejectedIndex: 0, ConflictIndex: 0, ConflictTerm: 0),
        new Heartbeat(A, B, 5, 8, 77),
        new HeartbeatResponse(A, B, 5, -1),
        new Propose(A, B, [9, 8, 7]),
        new Propose(A, B, []),
        new Propose(A, B, Large),
        new ReadIndexRequest(A, B, 42, ReadMode.Lease),
        new ReadIndexRequest(A, B, long.MinValue, ReadMode.ReadIndex),
        new ReadIndexResponse(A, B, 5, 42, 8),
        new InstallSnapshot(A, B, 5, new SnapshotMeta(100, 4, WithLearners), 65536, [1, 2, 3], Done: true),
        new InstallSnapshot(A, B, 5, new SnapshotMeta(0, 0, Membership.Empty), 0, [], Done: false),
        new InstallSnapshotResponse(B, A, 5, 100, 131072, Done: true),
        new TimeoutNow(A, B, 12),
        new RaftHardStateSaved(5, 1, 8),
        new RaftHardStateSaved(5, null, 0),
        new RaftHardStateSaved(0, 0, 0),
        new RaftEntriesSaved(7, Entries.Select(RaftEntryRecord.From).ToArray()),
        new RaftEntriesSaved(1, []),
        new RaftStateSnapshot(new RaftHardStateSaved(9, null, 100), 100, 4, [1, 3, 7], [4, 9], Large, Entries.Take(3).Select(RaftEntryRecord.From).ToArray()),
        new RaftStateSnapshot(new RaftHardStateSaved(1, 2, 0), 0, 0, [], [], [], []),
    ];

    public static TheoryData<int> SampleIndexes() => new(Enumerable.Range(0, Samples.Count));

    /// <summary>What a RaftActor journals or saves as its snapshot: written by the JSON serializer before the binary one existed.</summary>
    public static TheoryData<int> PersistedSampleIndexes() => new(Enumerable.Range(0, Samples.Count).Where(i => IsPersisted(Samples[i])));

    /// <summary>What only travels between nodes and is never stored.</summary>
    public static TheoryData<int> WireSampleIndexes() => new(Enumerable.Range(0, Samples.Count).Where(i => Samples[i] is RaftMessage));

    private static bool IsPersisted(object value) => value is RaftEvent or RaftStateSnapshot;

    private Akka.Serialization.Serialization Serialization => Sys.Serialization;

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Akka_resolves_the_binary_serializer_and_it_round_trips(int sample)
    {
        var value = Samples[sample];
        var serializer = Assert.IsType<RaftSerializer>(Serialization.FindSerializerFor(value));
        Assert.Equal(RaftSerializer.Id, serializer.Identifier);
        var bytes = serializer.ToBinary(value);
        var back = Serialization.Deserialize(bytes, serializer.Identifier, serializer.Manifest(value));
        Assert.Equal(value.GetType(), back.GetType());
        Assert.Equal(Dump(value), Dump(back));
        Assert.Equal(bytes, serializer.ToBinary(back));
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Round_trips_inside_the_network_envelope(int sample)
    {
        var hlc = sample % 2 == 0 ? new HlcTimestamp(1_764_000_000_000, 3) : (HlcTimestamp?)null;
        var wire = new NetworkProtocol.WireMessage(A, B, RaftProtocol.Service, Samples[sample], hlc);
        var back = RoundTripEnvelope(wire);
        Assert.Equal((A, B, RaftProtocol.Service, hlc), (back.From, back.To, back.Service, back.Hlc));
        Assert.Equal(Dump(wire.Payload), Dump(back.Payload));
    }

    [Fact]
    public void The_envelope_carries_other_protocols_payloads_through_their_own_serializers()
    {
        var delivery = new DeliveryEnvelope(A, 7, "order-7", new Increment("order-7"), 3);
        Assert.Equal(delivery, RoundTripEnvelope(new NetworkProtocol.WireMessage(A, B, "delivery", delivery)).Payload);
        Assert.Equal("plain text", RoundTripEnvelope(new NetworkProtocol.WireMessage(B, A, "ünïcode-service", "plain text")).Payload);
        Assert.Equal("ünïcode-service", RoundTripEnvelope(new NetworkProtocol.WireMessage(B, A, "ünïcode-service", 1)).Service);
    }

    [Fact]
    public void Every_concrete_raft_message_and_event_type_is_covered()
    {
        var types = typeof(RaftMessage).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(RaftMessage)))
            .Concat(typeof(RaftEvent).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(RaftEvent))))
            .Append(typeof(RaftStateSnapshot))
            .Where(t => !t.IsAbstract)
            .ToHashSet();
        Assert.True(types.Count >= 15, $"found only {types.Count} types");
        Assert.Empty(types.Except(RaftSerializer.Manifests.Keys).Select(t => t.Name));
        Assert.Empty(types.Except(Samples.Select(s => s.GetType())).Select(t => t.Name + " has no round-trip sample"));
        // Each sample is either persisted or a wire message, so the two theories below together cover every one.
        Assert.All(Samples, s => Assert.True(IsPersisted(s) ^ s is RaftMessage, $"{s.GetType().Name} is neither persisted nor a wire message"));
        Assert.Contains(Samples, IsPersisted);
        Assert.Contains(Samples, s => s is RaftMessage);
        Assert.Equal(RaftSerializer.Manifests.Count, RaftSerializer.Manifests.Values.Distinct().Count());
    }

    [Fact]
    public void An_unknown_manifest_is_a_serialization_exception_naming_it()
    {
        var serializer = (RaftSerializer)Serialization.FindSerializerFor(Samples[0]);
        var e = Assert.Throws<SerializationException>(() => serializer.FromBinary(serializer.ToBinary(Samples[0]), "NOPE"));
        Assert.Contains("NOPE", e.Message);
        Assert.Throws<ArgumentException>(() => serializer.ToBinary("not a raft message"));
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Truncated_extended_or_corrupted_bytes_are_rejected_not_misread(int sample)
    {
        var value = Samples[sample];
        var serializer = (RaftSerializer)Serialization.FindSerializerFor(value);
        var manifest = serializer.Manifest(value);
        var bytes = serializer.ToBinary(value);
        // Every prefix of small messages; a spread of cut points in the large ones.
        var cuts = bytes.Length <= 512 ? Enumerable.Range(0, bytes.Length) : Enumerable.Range(0, 512).Select(i => (int)((long)i * bytes.Length / 512));
        foreach (var cut in cuts)
            Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes[..cut], manifest));
        Assert.Throws<SerializationException>(() => serializer.FromBinary([.. bytes, 0], manifest));
        var otherVersion = bytes.ToArray();
        otherVersion[0] = 2;
        Assert.Contains("version", Assert.Throws<SerializationException>(() => serializer.FromBinary(otherVersion, manifest)).Message);
    }

    [Fact]
    public void Garbage_lengths_and_enum_values_are_rejected()
    {
        var serializer = (RaftSerializer)Serialization.FindSerializerFor(Samples[0]);
        var propose = serializer.ToBinary(new Propose(A, B, [1]));
        propose[9..13].AsSpan().Clear();
        BitConverter.TryWriteBytes(propose.AsSpan(9), int.MaxValue);
        Assert.Throws<SerializationException>(() => serializer.FromBinary(propose, "P"));
        var read = serializer.ToBinary(new ReadIndexRequest(A, B, 1, ReadMode.Lease));
        read[^1] = 9;
        Assert.Throws<SerializationException>(() => serializer.FromBinary(read, "RIQ"));
        var entries = serializer.ToBinary(new RaftEntriesSaved(1, [new RaftEntryRecord(1, 1, EntryType.Normal, [])]));
        BitConverter.TryWriteBytes(entries.AsSpan(9), -1);
        Assert.Throws<SerializationException>(() => serializer.FromBinary(entries, "ES"));
        var snapshot = serializer.ToBinary(new InstallSnapshot(A, B, 1, new SnapshotMeta(1, 1, new Membership([A], [B])), 0, [], true));
        BitConverter.TryWriteBytes(snapshot.AsSpan(1 + 16 + 16 + 8), B.Value); // the voter becomes the learner too
        Assert.Throws<SerializationException>(() => serializer.FromBinary(snapshot, "IS"));
        var envelope = Serialization.FindSerializerFor(new NetworkProtocol.WireMessage(A, B, "raft", Samples[0]));
        var wire = envelope.ToBinary(new NetworkProtocol.WireMessage(A, B, "raft", Samples[0]));
        for (var cut = 0; cut < wire.Length; cut++)
            Assert.Throws<SerializationException>(() => ((SerializerWithStringManifest)envelope).FromBinary(wire[..cut], "W"));
    }

    [Theory]
    [MemberData(nameof(PersistedSampleIndexes))]
    public void Events_journaled_earlier_by_the_json_serializer_still_recover(int sample)
    {
        var value = Samples[sample];
        // What a journal written before the binary serializer holds: JSON bytes with serializer id 1.
        var json = new NewtonSoftJsonSerializer((ExtendedActorSystem)Sys);
        var bytes = json.ToBinary(value);
        Assert.Equal(1, json.Identifier);
        Assert.StartsWith("{", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Equal(Dump(value), Dump(Serialization.Deserialize(bytes, json.Identifier, "")));
        Assert.Equal(Dump(value), Dump(Serialization.Deserialize(bytes, json.Identifier, $"{value.GetType().FullName}, {value.GetType().Assembly.GetName().Name}")));
    }

    /// <summary>
    /// Wire messages are never journaled, so JSON recovery does not apply to them; what does is that a peer receives them
    /// as the binary serializer's bytes inside the envelope (serializer id, manifest, length, bytes), never as JSON, and
    /// reads back the same value.
    /// </summary>
    [Theory]
    [MemberData(nameof(WireSampleIndexes))]
    public void Wire_messages_cross_the_envelope_as_binary_raft_payloads_and_read_back_equal(int sample)
    {
        var value = Samples[sample];
        var raft = Assert.IsType<RaftSerializer>(Serialization.FindSerializerFor(value));
        var payload = raft.ToBinary(value);
        var manifest = Encoding.UTF8.GetBytes(raft.Manifest(value));
        var wire = new NetworkProtocol.WireMessage(A, B, RaftProtocol.Service, value);
        var envelope = Serialization.FindSerializerFor(wire).ToBinary(wire);
        byte[] payloadField = [.. BitConverter.GetBytes(RaftSerializer.Id), .. BitConverter.GetBytes(manifest.Length), .. manifest, .. BitConverter.GetBytes(payload.Length), .. payload];
        Assert.True(envelope.AsSpan().EndsWith(payloadField), $"{value.GetType().Name}: the envelope does not end with the raft serializer's payload");
        var back = RoundTripEnvelope(wire).Payload;
        Assert.IsType(value.GetType(), back);
        Assert.Equal(Dump(value), Dump(back));
    }

    [Fact]
    public void The_binary_form_is_compact()
    {
        var heartbeat = Serialization.FindSerializerFor(Samples[8]).ToBinary(Samples[8]);
        Assert.Equal(1 + 4 + 4 + 8 + 8 + 8, heartbeat.Length);
        var entries = Enumerable.Range(1, 64).Select(i => new LogEntry(i, 1, EntryType.Normal, new byte[256])).ToImmutableArray();
        var append = new AppendEntries(A, B, 1, 0, 0, entries, 0);
        Assert.Equal(1 + 16 + 24 + 4 + 64 * (21 + 256), Serialization.FindSerializerFor(append).ToBinary(append).Length);
    }

    private NetworkProtocol.WireMessage RoundTripEnvelope(NetworkProtocol.WireMessage wire)
    {
        var serializer = Assert.IsType<WireMessageSerializer>(Serialization.FindSerializerFor(wire));
        var back = Serialization.Deserialize(serializer.ToBinary(wire), serializer.Identifier, serializer.Manifest(wire));
        return Assert.IsType<NetworkProtocol.WireMessage>(back);
    }

    /// <summary>Every public property, recursively, byte arrays as hex: records compare arrays by reference, this by content.</summary>
    private static string Dump(object? value)
    {
        var text = new StringBuilder();
        Write(value);
        return text.ToString();

        void Write(object? v)
        {
            switch (v)
            {
                case null: text.Append("null"); break;
                case byte[] bytes: text.Append(bytes.Length).Append(':').Append(Convert.ToHexString(bytes)); break;
                case string or NodeId or Enum: text.Append(v); break;
                case IEnumerable items: // before ValueType: ImmutableArray is a struct
                    text.Append('[');
                    foreach (var item in items) { Write(item); text.Append(','); }
                    text.Append(']');
                    break;
                case ValueType: text.Append(v); break;
                default:
                    text.Append(v.GetType().Name).Append('{');
                    foreach (var p in v.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract"))
                    {
                        text.Append(p.Name).Append('=');
                        Write(p.GetValue(v));
                        text.Append(';');
                    }
                    text.Append('}');
                    break;
            }
        }
    }
}
