using DistSysActors.Core;
using DistSysActors.Core.ReliableDelivery;

namespace DistSysActors.Actors.ReliableDelivery;

/// <summary>
/// Messages of the reliable delivery pair: <see cref="DeliverySenderActor"/> on the sending node and
/// <see cref="DeliveryReceiverActor"/> on the receiving one, talking through the network component under one channel name.
/// </summary>
public static class DeliveryProtocol
{
    /// <summary>The network service the sender of <paramref name="channel"/> listens on (acknowledgements).</summary>
    public static string SenderService(string channel) => $"delivery.{channel}.out";

    /// <summary>The network service the receiver of <paramref name="channel"/> listens on (envelopes).</summary>
    public static string ReceiverService(string channel) => $"delivery.{channel}.in";

    /// <summary>
    /// Local, to the sender: deliver <paramref name="Payload"/> to the receiver of this channel on node <paramref name="To"/>.
    /// Answered with a <see cref="DeliverResult"/>; offering the same key again is safe (it is delivered once).
    /// </summary>
    public sealed record Deliver(NodeId To, string Key, object Payload);

    public abstract record DeliverResult(string Key);

    /// <summary>Persisted in the sender's outbox: it will be delivered, across crashes of either side, until acknowledged.</summary>
    public sealed record Accepted(string Key, NodeId To, long Seq) : DeliverResult(Key);

    /// <summary>The key was accepted before (still pending, or already confirmed): nothing new was sent.</summary>
    public sealed record AlreadyAccepted(string Key, bool Confirmed) : DeliverResult(Key);

    /// <summary>Not accepted (outbox full, bad key): nothing will be delivered; the caller may retry later.</summary>
    public sealed record Refused(string Key, string Reason) : DeliverResult(Key);

    /// <summary>Published on the sender's event stream when the receiver acknowledged a message.</summary>
    public sealed record Confirmed(string Channel, NodeId To, long Seq, string Key);

    public sealed record GetOutboxStatus
    {
        public static readonly GetOutboxStatus Instance = new();
    }

    /// <summary>Counters since this incarnation started; Pending and LastSeqs are durable state.</summary>
    public sealed record OutboxStatus(int Pending, long Sent, long Redelivered, long Confirmed, int MaxAttempts, OutboxSeqRecord[] LastSeqs);

    public sealed record GetReceiverStatus
    {
        public static readonly GetReceiverStatus Instance = new();
    }

    /// <summary>Counters since this incarnation started (Processed includes replayed messages), and the durable de-duplication record.</summary>
    public sealed record ReceiverStatus(long Processed, long DuplicatesAcked, long Refused, int IdsHeld, DedupSenderRecord[] Senders);

    /// <summary>Local, to the receiver: answered with the handler's <see cref="IDeliveryHandler.Snapshot"/>.</summary>
    public sealed record GetHandlerState
    {
        public static readonly GetHandlerState Instance = new();
    }
}

/// <summary>What a <see cref="DeliveryReceiverActor"/> writes to its journal: one processed message, its id and its effect in one event.</summary>
public sealed record MessageProcessed(NodeId From, long Seq, string Key, object Payload) : IWireSerialized;

/// <summary>A receiver's snapshot: the de-duplication record and the handler's state, taken at the same event.</summary>
public sealed record DeliveryReceiverSnapshot(DedupSnapshot Dedup, object HandlerState) : IWireSerialized;

/// <summary>
/// The effect of delivered messages on the receiving node. The receiver persists each new message and then calls
/// <see cref="Apply"/>; after a restart it restores the last snapshot and calls Apply again for every later message
/// in the journal, so the state the handler builds reflects each message exactly once. Work outside that state
/// (telling other actors) should happen only when <c>recovering</c> is false, and is then at most once per message.
/// </summary>
public interface IDeliveryHandler
{
    void Apply(NodeId from, string key, object payload, bool recovering);

    /// <summary>An immutable, serializable copy of the state (used for snapshots and <see cref="DeliveryProtocol.GetHandlerState"/>).</summary>
    object Snapshot();

    void Restore(object snapshot);
}
