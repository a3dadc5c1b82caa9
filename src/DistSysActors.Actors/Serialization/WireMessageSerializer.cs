using Akka.Actor;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;
using static DistSysActors.Actors.Network.NetworkProtocol;

namespace DistSysActors.Actors.Serialization;

/// <summary>
/// Binary form of the envelope one network component hands to another (<see cref="WireMessage"/>): version, from, to,
/// service, the optional HLC stamp, the Lamport counter, the optional W3C trace context (16-byte trace id, 8-byte span
/// id, flags; format version 2), the optional vector clock (count, then node and counter per entry, at most
/// <see cref="LogRecord.VectorEntriesMax"/>; format version 3), then the payload through whatever serializer Akka binds to it (id, manifest,
/// bytes), so any protocol's payload travels. Payloads of a <see cref="BinarySerializer"/> are written in place,
/// without an intermediate array.
/// </summary>
public sealed class WireMessageSerializer(ExtendedActorSystem system) : BinarySerializer(system, Format)
{
    /// <summary>Registered under this id in akka.actor.serialization-identifiers.</summary>
    public const int Id = 4171;

    internal static readonly ManifestTable Format = new(Id, nameof(WireMessageSerializer), version: 3,
        ManifestEntry.Of<WireMessage>("W", static (m, ref w) =>
        {
            w.Int32(m.From.Value);
            w.Int32(m.To.Value);
            w.String(m.Service);
            w.Bool(m.Hlc.HasValue);
            if (m.Hlc is { } hlc)
            {
                w.Int64(hlc.WallMs);
                w.Int64(hlc.Logical);
            }
            w.Int64(m.Lamport);
            w.Bool(m.Trace is not null);
            if (m.Trace is { } trace)
            {
                var (traceId, spanId) = trace.ToBytes();
                w.Raw(traceId);
                w.Raw(spanId);
                w.Byte(trace.Flags);
            }
            w.Bool(m.Vector is not null);
            if (m.Vector is { } vector)
            {
                w.Int32(vector.Entries.Length);
                foreach (var entry in vector.Entries)
                {
                    w.Int32(entry.Node.Value);
                    w.Int64(entry.Counter);
                }
            }
            w.Payload(m.Payload);
        }, static (ref r) =>
        {
            var (from, to, service) = (new NodeId(r.Int32()), new NodeId(r.Int32()), r.String());
            HlcTimestamp? hlc = r.Bool() ? new HlcTimestamp(r.Int64(), r.Int64()) : null;
            var lamport = r.Int64();
            TraceContext? trace = r.Bool() ? TraceContext.FromBytes(r.Take(16), r.Take(8), r.Byte()) : null;
            VectorClock? vector = null;
            if (r.Bool())
            {
                var count = r.Int32();
                if (count is < 0 or > LogRecord.VectorEntriesMax) throw r.Corrupt($"a vector clock of {count} entries (at most {LogRecord.VectorEntriesMax})");
                var entries = new VectorClockEntry[count];
                for (var i = 0; i < count; i++) entries[i] = new VectorClockEntry(new NodeId(r.Int32()), r.Int64());
                try { vector = VectorClock.From(entries); }
                catch (ArgumentException e) { throw r.Corrupt(e.Message); }
            }
            return new WireMessage(from, to, service, r.Payload(), hlc, lamport, trace, vector);
        }));

    public override int Identifier => Id;
}
