using DistSysActors.Actors.ReliableDelivery;
using DistSysActors.Core;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// The aggregator's side of the log channel: each <see cref="LogBatch"/> the <see cref="DeliveryReceiverActor"/> has
/// recorded goes into the aggregate store, keyed by record id, so applying a batch again (a journal replay after a
/// restart, records shipped twice) stores nothing twice. The records live in the store, so the handler's snapshot is only
/// a counter.
/// </summary>
public sealed class LogAggregateHandler(string path, int recordsMax) : IDeliveryHandler
{
    private LogStore? _store;
    private long _applied;

    public void Apply(NodeId from, string key, object payload, bool recovering)
    {
        if (payload is not LogBatch batch) return;
        (_store ??= new LogStore(path, recordsMax)).Append(batch.Records);
        _applied += batch.Records.Length;
    }

    public object Snapshot() => new LogAggregateState(_applied);

    public void Restore(object snapshot)
    {
        if (snapshot is LogAggregateState state) _applied = state.RecordsApplied;
    }
}
