using DistSysActors.Core.Ping;
using DistSysActors.Actors.Ping;
using DistSysActors.Actors.ReliableDelivery;
using DistSysActors.Actors.Tests.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.ReliableDelivery;

namespace DistSysActors.Actors.Tests.ReliableDelivery;

/// <summary>
/// The delivery serializer (id 4175) writes the delivery pair's messages, journal events and snapshots to exactly these
/// bytes, and reads them back; payloads here are a ping (written in place by its own serializer) or a byte array (Akka's).
/// </summary>
public sealed class DeliveryReferenceBytesSpec : ReferenceBytesSpec
{
    private static readonly NodeId A = new(1), B = new(7);
    private static readonly PingProtocol.Ping Payload = new(A, 3, 1_764_000_000_000);

    public static IReadOnlyList<ReferenceCase> Cases { get; } =
    [
        Case("DeliveryEnvelope", new DeliveryEnvelope(A, 7, "order-7", Payload, 3), 4175, "E",
            "01", // version
            "01000000", // from
            "0700000000000000", // seq
            "03000000", // attempt
            "070000006F726465722D37", // key "order-7"
            "4E100000", // payload serializer id 4174
            "020000005049", // payload manifest "PI"
            "15000000", // payload length
            "0101000000030000000000000000E897B69A010000"), // payload: the PI reference bytes
        Case("DeliveryEnvelope with a byte array payload", new DeliveryEnvelope(A, 8, "k", new byte[] { 0xCA, 0xFE }, 1), 4175, "E",
            "01", // version
            "01000000", // from
            "0800000000000000", // seq
            "01000000", // attempt
            "010000006B", // key "k"
            "04000000", // payload serializer id 4 (Akka byte array)
            "00000000", // payload manifest ""
            "02000000CAFE"), // payload
        Case("DeliveryAck", new DeliveryAck(B, 7), 4175, "A",
            "01", // version
            "07000000", // from
            "0700000000000000"), // seq
        Case("DeliveryAccepted", new DeliveryAccepted(B, 7, "order-7", Payload), 4175, "DA",
            "01", // version
            "07000000", // to
            "0700000000000000", // seq
            "070000006F726465722D37", // key "order-7"
            "4E100000", // payload serializer id 4174
            "020000005049", // payload manifest "PI"
            "15000000", // payload length
            "0101000000030000000000000000E897B69A010000"), // payload: the PI reference bytes
        Case("DeliveryConfirmed", new DeliveryConfirmed(B, 7), 4175, "DC",
            "01", // version
            "07000000", // to
            "0700000000000000"), // seq
        Case("OutboxSnapshot", new OutboxSnapshot([new OutboxSeqRecord(7, 7)], [new DeliveryAccepted(B, 7, "order-7", Payload)], ["order-6"]), 4175, "OS",
            "01", // version
            "01000000", // last seq count
            "070000000700000000000000", // to 7, last seq 7
            "01000000", // pending count
            "07000000", // pending: to
            "0700000000000000", // seq
            "070000006F726465722D37", // key "order-7"
            "4E100000", // payload serializer id 4174
            "020000005049", // payload manifest "PI"
            "15000000", // payload length
            "0101000000030000000000000000E897B69A010000", // payload: the PI reference bytes
            "01000000", // confirmed key count
            "070000006F726465722D36"), // key "order-6"
        Case("OutboxSnapshot empty", new OutboxSnapshot([], [], []), 4175, "OS",
            "01", // version
            "00000000", // last seq count
            "00000000", // pending count
            "00000000"), // confirmed key count
        Case("MessageProcessed", new MessageProcessed(A, 7, "order-7", Payload), 4175, "MP",
            "01", // version
            "01000000", // from
            "0700000000000000", // seq
            "070000006F726465722D37", // key "order-7"
            "4E100000", // payload serializer id 4174
            "020000005049", // payload manifest "PI"
            "15000000", // payload length
            "0101000000030000000000000000E897B69A010000"), // payload: the PI reference bytes
        Case("DeliveryReceiverSnapshot", new DeliveryReceiverSnapshot(new DedupSnapshot([new DedupSenderRecord(1, 5, [7, 9])]), new byte[] { 1, 2 }), 4175, "RS",
            "01", // version
            "01000000", // sender count
            "010000000500000000000000", // sender 1, high water 5
            "0200000007000000000000000900000000000000", // above: 7, 9
            "04000000", // handler state serializer id 4 (Akka byte array)
            "00000000", // manifest ""
            "020000000102"), // handler state
    ];

    public static TheoryData<string> Names() => NamesOf(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encodes_to_and_decodes_from_the_reference_bytes(string name) => Check(Cases, name);
}
