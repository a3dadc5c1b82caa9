using DistSysActors.Core.Ping;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Ping;
using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;
using DistSysActors.Core.Raft;

namespace DistSysActors.Actors.Tests.Network;

/// <summary>The network envelope's serializer (id 4171) writes the envelope and its payload's serializer id, manifest and bytes exactly so.</summary>
public sealed class WireMessageReferenceBytesSpec : ReferenceBytesSpec
{
    private static readonly NodeId A = new(1), B = new(7);

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("WireMessage with a Raft payload and an HLC stamp", new NetworkProtocol.WireMessage(A, B, "raft", new Heartbeat(A, B, 5, 8, 77), new HlcTimestamp(1_764_000_000_000, 3)), 4171, "W",
            "03", // version
            "01000000", // from
            "07000000", // to
            "0400000072616674", // service "raft"
            "01", // has HLC
            "00E897B69A010000", // HLC wall ms
            "0300000000000000", // HLC logical
            "0000000000000000", // Lamport counter (none)
            "00", // no trace context
            "00", // no vector clock
            "4A100000", // payload serializer id 4170
            "020000004842", // payload manifest "HB"
            "21000000", // payload length
            "010100000007000000050000000000000008000000000000004D00000000000000"), // payload: the HB reference bytes
        Case("WireMessage with a ping payload", new NetworkProtocol.WireMessage(B, A, "ping", new PingProtocol.Ping(A, 3, 1_764_000_000_000)), 4171, "W",
            "03", // version
            "07000000", // from
            "01000000", // to
            "0400000070696E67", // service "ping"
            "00", // no HLC
            "0000000000000000", // Lamport counter (none)
            "00", // no trace context
            "00", // no vector clock
            "4E100000", // payload serializer id 4174
            "020000005049", // payload manifest "PI"
            "15000000", // payload length
            "0101000000030000000000000000E897B69A010000"), // payload: the PI reference bytes
        Case("WireMessage with a byte array payload", new NetworkProtocol.WireMessage(A, B, "blob", new byte[] { 0xCA, 0xFE }), 4171, "W",
            "03", // version
            "01000000", // from
            "07000000", // to
            "04000000626C6F62", // service "blob"
            "00", // no HLC
            "0000000000000000", // Lamport counter (none)
            "00", // no trace context
            "00", // no vector clock
            "04000000", // payload serializer id 4 (Akka byte array)
            "00000000", // payload manifest ""
            "02000000CAFE"), // payload
        Case("WireMessage with a Lamport counter and a trace context", new NetworkProtocol.WireMessage(A, B, "blob", new byte[] { 0xCA, 0xFE },
                new HlcTimestamp(1_764_000_000_000, 3), 42, TraceContext.TryParse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")), 4171, "W",
            "03", // version
            "01000000", // from
            "07000000", // to
            "04000000626C6F62", // service "blob"
            "01", // has HLC
            "00E897B69A010000", // HLC wall ms
            "0300000000000000", // HLC logical
            "2A00000000000000", // Lamport counter 42
            "01", // has a trace context
            "4BF92F3577B34DA6A3CE929D0E0E4736", // trace id
            "00F067AA0BA902B7", // span id
            "01", // trace flags
            "00", // no vector clock
            "04000000", // payload serializer id 4 (Akka byte array)
            "00000000", // payload manifest ""
            "02000000CAFE"), // payload
        Case("WireMessage with a vector clock", new NetworkProtocol.WireMessage(A, B, "blob", new byte[] { 0xCA, 0xFE }, Lamport: 5,
                Vector: VectorClock.From([new VectorClockEntry(A, 3), new VectorClockEntry(B, 2)])), 4171, "W",
            "03", // version
            "01000000", // from
            "07000000", // to
            "04000000626C6F62", // service "blob"
            "00", // no HLC
            "0500000000000000", // Lamport counter 5
            "00", // no trace context
            "01", // has a vector clock
            "02000000", // two entries
            "01000000", "0300000000000000", // node 1: 3
            "07000000", "0200000000000000", // node 7: 2
            "04000000", // payload serializer id 4 (Akka byte array)
            "00000000", // payload manifest ""
            "02000000CAFE"), // payload
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}
