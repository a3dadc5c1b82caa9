using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.ReliableDelivery;

/// <summary>
/// The receiving half of reliable delivery as a protocol core, over a <see cref="DedupTable"/>: a new envelope is
/// recorded at once and persisted as one <see cref="DeliveryProcessed"/> (its id and its effect together), then applied
/// by the host, then acknowledged; a duplicate is acknowledged without a write; one beyond the window or from a sender
/// the table has no room for is neither applied nor acknowledged. Recovery replays the journal through <see cref="Replay"/>.
/// </summary>
public sealed class DeliveryReceiver : IProtocolCore<DeliveryMessage, ProtocolReady<DeliveryMessage>>
{
    private readonly ReadyBuffer<DeliveryMessage> _ready = new();

    public DeliveryReceiver(NodeId self, DedupTable table)
    {
        Self = self;
        Table = table;
    }

    public NodeId Self { get; }
    public DedupTable Table { get; private set; }

    /// <summary>New messages recorded in this incarnation, replayed ones included.</summary>
    public long Processed { get; private set; }
    public long DuplicatesAcked { get; private set; }
    public long Refused { get; private set; }

    /// <summary>Replaces the table with a snapshot's (recovery only).</summary>
    public void Restore(DedupSnapshot snapshot) => Table = DedupTable.FromSnapshot(snapshot, Table.WindowMax, Table.SendersMax);

    /// <summary>Records a journaled message again during recovery; the host re-applies it to its handler.</summary>
    public void Replay(DeliveryProcessed processed)
    {
        Table.Record(processed.From, processed.Seq);
        Processed++;
    }

    public void Step(DeliveryMessage message, long nowMs)
    {
        if (message is not DeliveryEnvelope envelope) return;
        switch (Table.Check(envelope.From, envelope.Seq))
        {
            case DedupVerdict.New:
                // Recorded now: a copy arriving before the write is durable is a duplicate, acknowledged after it.
                var processed = new DeliveryProcessed(envelope.From, envelope.Seq, envelope.Key, envelope.Payload);
                Table.Record(envelope.From, envelope.Seq);
                Processed++;
                _ready.Persist(processed);
                _ready.Apply(processed);
                _ready.Send(envelope.From, new DeliveryAck(Self, envelope.Seq));
                break;
            case DedupVerdict.Duplicate:
                DuplicatesAcked++;
                _ready.Send(envelope.From, new DeliveryAck(Self, envelope.Seq));
                break;
            default:
                Refused++;
                break;
        }
    }

    /// <summary>The receiver only answers: nothing is due on a timer.</summary>
    public void Tick(long nowMs) { }

    public bool HasReady => _ready.HasReady;

    public ProtocolReady<DeliveryMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<DeliveryMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants()
    {
        try
        {
            Table.AssertInvariants();
            return [];
        }
        catch (InvalidOperationException e)
        {
            return [e.Message];
        }
    }
}
