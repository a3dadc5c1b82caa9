using Akka.Actor;
using DistSysActors.Actors.ReliableDelivery;
using DistSysActors.Core;
using DistSysActors.Core.Logging;
using static DistSysActors.Actors.ReliableDelivery.DeliveryProtocol;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// Where a node ships its records when <c>distsys.logging.aggregator</c> names a node: the network component the
/// reliable-delivery pair talks through, its settings, and the aggregate store's file (used on the aggregator only).
/// </summary>
public sealed record ShippingPlan(IActorRef Network, DeliverySettings Delivery, string AggregateStorePath);

/// <summary>
/// Shipping to the aggregator. The node's own store is the bounded on-disk buffer: each flush offers the rows after the
/// store's shipping cursor, one <see cref="LogBatch"/> at a time, to a <see cref="DeliverySenderActor"/> on channel
/// <see cref="Channel"/>, whose outbox persists it before the first send and redelivers it until the aggregator's
/// <see cref="DeliveryReceiverActor"/> acknowledges having recorded it; the cursor moves (durably) once the outbox has
/// accepted the batch. Back-pressure: while a batch waits for the outbox's answer nothing more is offered, and a full
/// outbox refuses, so the rows stay in the store until the aggregator catches up; only rows the store's bound evicts
/// before they were shipped are lost, and counted as dropped. The aggregator stores records by id, so whatever is
/// delivered twice (a redelivery, a batch offered again after a crash before the cursor moved) is stored once.
/// </summary>
public sealed partial class LogShipperActor
{
    /// <summary>The reliable-delivery channel records travel on.</summary>
    public const string Channel = "logs";

    // One delivery message stays well under Akka.Remote's default frame (128,000 bytes).
    private const int ShipmentBytesMax = 64 * 1024;
    private const int BodyCharsShippedMax = 8 * 1024;
    // An offer the outbox has not answered in this long (its journal is stuck or it restarted) is made again.
    private static readonly TimeSpan OfferAnswerTimeout = TimeSpan.FromSeconds(10);

    private readonly ShippingPlan? _shipping;
    private IActorRef? _outbox;
    private LogStore? _aggregateStore;
    private Offer? _offering;
    private long _acceptedRecords, _confirmedRecords;

    private sealed record Offer(string Key, long LastSeq, int Count, DateTime Deadline);

    private void ReceiveShipping()
    {
        Receive<Accepted>(a => OfferAnswered(a.Key, accepted: true));
        Receive<AlreadyAccepted>(a => OfferAnswered(a.Key, accepted: false));
        Receive<Refused>(r =>
        {
            // Back-pressure: the outbox is full (the aggregator is behind or unreachable); the rows wait in the store.
            if (_offering?.Key == r.Key) _offering = null;
        });
        Receive<Confirmed>(c =>
        {
            if (c.Channel == Channel) _confirmedRecords += LogBatch.CountOf(c.Key);
        });
    }

    private void StartShipping()
    {
        if (_shipping is not { } plan) return;
        var self = _log.Self;
        if (_log.Settings.Aggregator != self.Value)
        {
            _outbox = Context.ActorOf(DeliverySenderActor.Props(self, Channel, plan.Delivery, plan.Network), "outbox");
            Context.System.EventStream.Subscribe(Self, typeof(Confirmed));
            return;
        }
        var recordsMax = _log.Settings.StoreRecordsMax;
        var path = plan.AggregateStorePath;
        _aggregateStore = new LogStore(path, recordsMax);
        Context.ActorOf(DeliveryReceiverActor.Props(self, Channel, plan.Delivery, plan.Network, () => new LogAggregateHandler(path, recordsMax)), "aggregate");
    }

    /// <summary>
    /// Offers the next batch of unshipped rows, unless one is still waiting for the outbox's answer. The aggregator's own
    /// rows need no channel (an outbox does not deliver to its own node): they go straight into the aggregate store.
    /// </summary>
    private void Ship()
    {
        if (_store is null) return;
        if (_aggregateStore is { } aggregate)
        {
            for (var (batch, lastSeq) = NextBatch(); batch.Count > 0; (batch, lastSeq) = NextBatch())
            {
                aggregate.Append(batch);
                _store.MarkShipped(lastSeq);
                _confirmedRecords += batch.Count;
            }
            return;
        }
        if (_outbox is null || (_offering is { } waiting && DateTime.UtcNow < waiting.Deadline)) return;
        _offering = null;
        var (records, last) = NextBatch();
        if (records.Count == 0) return;
        var key = LogBatch.Key(records[0].Id, last, records.Count);
        _offering = new Offer(key, last, records.Count, DateTime.UtcNow + OfferAnswerTimeout);
        _outbox.Tell(new Deliver(new NodeId(_log.Settings.Aggregator), key, new LogBatch([.. records])));
    }

    /// <summary>The next rows after the store's cursor, at most ship-batch-max of them and about <see cref="ShipmentBytesMax"/>.</summary>
    private (List<LogRecord> Records, long LastSeq) NextBatch()
    {
        var rows = _store!.Unshipped(_log.Settings.ShipBatchMax);
        if (rows.Count == 0) return ([], 0);
        var batch = new List<LogRecord>(rows.Count);
        long bytes = 0, lastSeq = 0;
        foreach (var (seq, record) in rows)
        {
            var shipped = record.Body.Length > BodyCharsShippedMax ? record with { Body = record.Body[..BodyCharsShippedMax] + "..." } : record;
            bytes += 128 + 3L * shipped.Body.Length + shipped.AttributesOrEmpty.Sum(a => 3L * (a.Key.Length + a.Value.Length) + 8);
            if (batch.Count > 0 && bytes > ShipmentBytesMax) break;
            batch.Add(shipped);
            lastSeq = seq;
        }
        return (batch, lastSeq);
    }

    private void OfferAnswered(string key, bool accepted)
    {
        if (_offering is not { } offer || offer.Key != key || _store is null) return;
        _offering = null;
        // Durable in the outbox now: the rows need not be offered again, even after a crash.
        _store.MarkShipped(offer.LastSeq);
        if (accepted) _acceptedRecords += offer.Count;
        Ship();
    }

    private Status CurrentStatus()
    {
        var stored = _store?.Count ?? 0;
        if (_shipping is null) return new Status(_log.Buffered + _pending.Count, _log.Shipped, _log.Dropped, stored);
        // Not yet acknowledged by the aggregator: queued, in the store after the cursor, or in the outbox.
        var inOutbox = Math.Max(0, _acceptedRecords - _confirmedRecords);
        return new Status(_log.Buffered + _pending.Count + (_store?.UnshippedCount ?? 0) + inOutbox, _confirmedRecords, _log.Dropped, stored);
    }
}
