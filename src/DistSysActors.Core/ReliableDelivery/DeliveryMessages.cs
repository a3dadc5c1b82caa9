namespace DistSysActors.Core.ReliableDelivery;

/// <summary>
/// What the at-least-once sender (<see cref="Outbox"/>) and the de-duplicating receiver (<see cref="DedupTable"/>)
/// say to each other. A message is identified by its sender and a sequence number the sender assigns per destination,
/// counting from 1 without gaps, so the receiver can remember everything below a high-water mark in one number.
/// </summary>
public abstract record DeliveryMessage(NodeId From) : IWireSerialized;

/// <summary>One (re)delivery of a message; every copy of the same message carries the same <paramref name="Seq"/>.</summary>
public sealed record DeliveryEnvelope(NodeId From, long Seq, string Key, object Payload, int Attempt) : DeliveryMessage(From);

/// <summary>The receiver has durably recorded message <paramref name="Seq"/> of the addressee; sent for every copy, duplicates included.</summary>
public sealed record DeliveryAck(NodeId From, long Seq) : DeliveryMessage(From);

/// <summary>What an <see cref="Outbox"/> writes to its journal before acting on it.</summary>
public abstract record OutboxEvent : IWireSerialized;

/// <summary>A message accepted for delivery: persisted before its first send.</summary>
public sealed record DeliveryAccepted(NodeId To, long Seq, string Key, object Payload) : OutboxEvent;

/// <summary>The receiver acknowledged message <paramref name="Seq"/> to <paramref name="To"/>; it is never sent again.</summary>
public sealed record DeliveryConfirmed(NodeId To, long Seq) : OutboxEvent;

/// <summary>The last sequence number used towards one destination.</summary>
public sealed record OutboxSeqRecord(int To, long LastSeq);

/// <summary>An outbox's whole durable state: enough to recover it without the events before it.</summary>
public sealed record OutboxSnapshot(OutboxSeqRecord[] LastSeqs, DeliveryAccepted[] Pending, string[] ConfirmedKeys) : IWireSerialized;

/// <summary>A receiver's memory of one sender: every sequence number up to the high-water mark, and the ones above it listed.</summary>
public sealed record DedupSenderRecord(int From, long HighWaterSeq, long[] Above);

/// <summary>A de-duplication table's whole durable state.</summary>
public sealed record DedupSnapshot(DedupSenderRecord[] Senders);

/// <summary>The answer to <see cref="Outbox.Accept"/>: the offer's result under the host's request id.</summary>
public sealed record OfferAnswer(long RequestId, OfferResult Result);

/// <summary>Announced by the outbox when the receiver acknowledged message <paramref name="Seq"/> offered under <paramref name="Key"/>.</summary>
public sealed record DeliveryDone(NodeId To, long Seq, string Key);

/// <summary>A new message the receiver recorded: persisted (id and effect in one event), then applied to the host's handler.</summary>
public sealed record DeliveryProcessed(NodeId From, long Seq, string Key, object Payload);
