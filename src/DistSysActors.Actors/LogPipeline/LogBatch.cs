using DistSysActors.Core;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// One shipment of a node's records to the aggregator, carried by the reliable-delivery channel
/// <see cref="LogShipperActor.Channel"/> (persisted in the sender's outbox before its first send, redelivered until the
/// aggregator acknowledges it). The aggregator stores records by id, so a batch delivered twice, or records shipped again
/// after a crash, are stored once.
/// </summary>
public sealed record LogBatch(LogRecord[] Records) : IWireSerialized
{
    /// <summary>
    /// The delivery key of a batch: its first record's id (unique across the cluster and restarts), the store row it ends
    /// at, and its record count (for the shipped counter).
    /// </summary>
    public static string Key(string firstRecordId, long lastSeq, int count) => $"{firstRecordId}+{lastSeq}:{count}";

    /// <summary>The record count a key names; 0 when the key is not a batch's.</summary>
    public static int CountOf(string key) =>
        key.LastIndexOf(':') is var i and > 0 && int.TryParse(key.AsSpan(i + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
}

/// <summary>The aggregator's handler state in a delivery snapshot: the records live in its own store, so only a marker is kept.</summary>
public sealed record LogAggregateState(long RecordsApplied) : IWireSerialized;
