using Akka.Actor;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.ReliableDelivery;

namespace DistSysActors.Actors.ReliableDelivery;

/// <summary>
/// Binary form of the reliable delivery pair's wire messages (<see cref="DeliveryMessage"/>), journal events
/// (<see cref="OutboxEvent"/>, <see cref="MessageProcessed"/>) and snapshots (<see cref="OutboxSnapshot"/>,
/// <see cref="DeliveryReceiverSnapshot"/>); bound in the reference configuration. The application's payloads and
/// handler state go through whichever serializer Akka binds to them (id, manifest, bytes). Events journaled earlier
/// by Akka's JSON serializer still recover: the journal stores the serializer id with each event.
/// </summary>
public sealed class DeliverySerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers; journals store it, so it never changes.</summary>
    public const int Id = 4175;

    // Smallest encodings, used to bound counts read from untrusted bytes: a payload is id, manifest length and byte length.
    private const int PayloadBytesMin = 4 + 4 + 4;
    private const int AcceptedBytesMin = 4 + 8 + 4 + PayloadBytesMin;
    private const int SeqRecordBytes = 4 + 8;
    private const int SenderRecordBytesMin = 4 + 8 + 4;

    // Journals store these manifests with each event: never rename one.
    internal static readonly ManifestTable Format = new(Id, nameof(DeliverySerializer), version: 1,
        ManifestEntry.Of<DeliveryEnvelope>("E", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.Seq);
            w.Int32(m.Attempt);
            w.String(m.Key);
            w.Payload(m.Payload);
        }, static (ref r) =>
        {
            var (from, seq, attempt, key) = (new NodeId(r.Int32()), r.Int64(), r.Int32(), r.String());
            return new DeliveryEnvelope(from, seq, key, r.Payload(), attempt);
        }),
        ManifestEntry.Of<DeliveryAck>("A", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int64(m.Seq);
        }, static (ref r) => new DeliveryAck(new NodeId(r.Int32()), r.Int64())),
        ManifestEntry.Of<DeliveryAccepted>("DA", Accepted, ReadAccepted),
        ManifestEntry.Of<DeliveryConfirmed>("DC", static (e, ref w) =>
        {
            w.Int32(e.To.Value);
            w.Int64(e.Seq);
        }, static (ref r) => new DeliveryConfirmed(new NodeId(r.Int32()), r.Int64())),
        ManifestEntry.Of<OutboxSnapshot>("OS", static (s, ref w) =>
        {
            w.Int32(s.LastSeqs.Length);
            foreach (var l in s.LastSeqs)
            {
                w.Int32(l.To);
                w.Int64(l.LastSeq);
            }
            w.Int32(s.Pending.Length);
            foreach (var p in s.Pending) Accepted(p, ref w);
            w.Int32(s.ConfirmedKeys.Length);
            foreach (var k in s.ConfirmedKeys) w.String(k);
        }, ReadOutboxSnapshot),
        ManifestEntry.Of<MessageProcessed>("MP", static (e, ref w) =>
        {
            w.Int32(e.From.Value);
            w.Int64(e.Seq);
            w.String(e.Key);
            w.Payload(e.Payload);
        }, static (ref r) => new MessageProcessed(new NodeId(r.Int32()), r.Int64(), r.String(), r.Payload())),
        ManifestEntry.Of<DeliveryReceiverSnapshot>("RS", static (s, ref w) =>
        {
            w.Int32(s.Dedup.Senders.Length);
            foreach (var sender in s.Dedup.Senders)
            {
                w.Int32(sender.From);
                w.Int64(sender.HighWaterSeq);
                w.Int32(sender.Above.Length);
                foreach (var seq in sender.Above) w.Int64(seq);
            }
            w.Payload(s.HandlerState);
        }, ReadReceiverSnapshot));

    public override int Identifier => Id;

    private static void Accepted(DeliveryAccepted e, ref FieldWriter w)
    {
        w.Int32(e.To.Value);
        w.Int64(e.Seq);
        w.String(e.Key);
        w.Payload(e.Payload);
    }

    private static DeliveryAccepted ReadAccepted(ref FieldReader r) => new(new NodeId(r.Int32()), r.Int64(), r.String(), r.Payload());

    private static OutboxSnapshot ReadOutboxSnapshot(ref FieldReader r)
    {
        var lastSeqs = new OutboxSeqRecord[r.Count(SeqRecordBytes)];
        for (var i = 0; i < lastSeqs.Length; i++) lastSeqs[i] = new OutboxSeqRecord(r.Int32(), r.Int64());
        var pending = new DeliveryAccepted[r.Count(AcceptedBytesMin)];
        for (var i = 0; i < pending.Length; i++) pending[i] = ReadAccepted(ref r);
        var keys = new string[r.Count(4)];
        for (var i = 0; i < keys.Length; i++) keys[i] = r.String();
        return new OutboxSnapshot(lastSeqs, pending, keys);
    }

    private static DeliveryReceiverSnapshot ReadReceiverSnapshot(ref FieldReader r)
    {
        var senders = new DedupSenderRecord[r.Count(SenderRecordBytesMin)];
        for (var i = 0; i < senders.Length; i++)
        {
            var (from, highWater) = (r.Int32(), r.Int64());
            var above = new long[r.Count(8)];
            for (var j = 0; j < above.Length; j++) above[j] = r.Int64();
            senders[i] = new DedupSenderRecord(from, highWater, above);
        }
        return new DeliveryReceiverSnapshot(new DedupSnapshot(senders), r.Payload());
    }
}
