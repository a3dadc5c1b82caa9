using Akka.Actor;
using DistSysActors.Actors.Serialization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// Binary form of what the log pipeline ships and persists: a <see cref="LogBatch"/> (each record's OpenTelemetry fields,
/// causal stamps and attributes) and the aggregator's snapshot marker; bound in the reference configuration.
/// </summary>
public sealed class LogSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4184;

    // A record is at least its fixed fields: ids, stamps and flags (an empty body, no attributes).
    private const int RecordBytesMin = 4 + 4 + 8 * 5 + 4 + 4 + 1 + 1 + 4 + 1;

    internal static readonly ManifestTable Format = new(Id, nameof(LogSerializer), version: 1,
        ManifestEntry.Of<LogBatch>("LB", static (m, ref w) =>
        {
            w.Int32(m.Records.Length);
            foreach (var r in m.Records) Write(r, ref w);
        }, static (ref r) =>
        {
            var records = new LogRecord[r.Count(RecordBytesMin)];
            for (var i = 0; i < records.Length; i++) records[i] = Read(ref r);
            return new LogBatch(records);
        }),
        ManifestEntry.Of<LogAggregateState>("LA", static (m, ref w) => w.Int64(m.RecordsApplied), static (ref r) => new LogAggregateState(r.Int64())));

    public override int Identifier => Id;

    private static void Write(LogRecord r, ref FieldWriter w)
    {
        w.String(r.Id);
        w.Int32(r.Node.Value);
        w.Int64(r.TimestampMs);
        w.Int64(r.ObservedTimestampMs);
        w.Int64(r.Hlc.WallMs);
        w.Int64(r.Hlc.Logical);
        w.Int64(r.Lamport);
        w.Int32((int)r.Severity);
        w.String(r.Body);
        w.Bool(r.TraceId is not null);
        if (r.TraceId is { } trace) w.String(trace);
        w.Bool(r.SpanId is not null);
        if (r.SpanId is { } span) w.String(span);
        var attributes = r.AttributesOrEmpty;
        w.Int32(attributes.Count);
        foreach (var (key, value) in attributes)
        {
            w.String(key);
            w.String(value);
        }
        w.Bool(r.Vector is not null);
        if (r.Vector is not { } vector) return;
        w.Int32(vector.Entries.Length);
        foreach (var e in vector.Entries)
        {
            w.Int32(e.Node.Value);
            w.Int64(e.Counter);
        }
    }

    private static LogRecord Read(ref FieldReader r)
    {
        var (id, node, ts, observed) = (r.String(), new NodeId(r.Int32()), r.Int64(), r.Int64());
        var hlc = new HlcTimestamp(r.Int64(), r.Int64());
        var (lamport, severity, body) = (r.Int64(), (Severity)r.Int32(), r.String());
        var trace = r.Bool() ? r.String() : null;
        var span = r.Bool() ? r.String() : null;
        var count = r.Count(8);
        var attributes = System.Collections.Immutable.ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++) attributes[r.String()] = r.String();
        VectorClock? vector = null;
        if (r.Bool())
        {
            var entries = new VectorClockEntry[r.Count(12)];
            for (var i = 0; i < entries.Length; i++) entries[i] = new VectorClockEntry(new NodeId(r.Int32()), r.Int64());
            try { vector = VectorClock.From(entries); }
            catch (ArgumentException e) { throw r.Corrupt(e.Message); }
        }
        return new LogRecord(id, node, ts, observed, hlc, lamport, severity, body, trace, span, count == 0 ? null : attributes.ToImmutable(), vector);
    }
}
