using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using Akka.Actor;
using DistSysActors.Actors.Clocks;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// A node's log pipeline entrance, shared by every writer on the node (protocol actors, the network component, Akka's
/// own logging through <see cref="NodeLogForwarder"/>, the host's Microsoft.Extensions.Logging): it stamps each record
/// with the node's wall clock, HLC and Lamport counter and queues it for the <see cref="LogShipperActor"/>, which writes
/// it to the node's store. The queue is bounded: a record that finds it full is dropped and counted
/// (<see cref="Dropped"/>), never blocks the writer. The node's Lamport clock lives here, ticked by the network
/// component on every send and merged on every receive, and so does its vector clock when the cluster has at most
/// <see cref="LogRecord.VectorEntriesMax"/> nodes (above that, or once a merge would exceed it, records carry none). Thread-safe.
/// </summary>
public sealed class NodeLog
{
    private static readonly ConditionalWeakTable<ActorSystem, NodeLog> BySystem = new();

    private readonly object _gate = new();
    private readonly ConcurrentQueue<LogRecord> _queue = new();
    private readonly string _idPrefix;
    private readonly HybridLogicalClock? _ownHlc;
    private LamportClock _lamport;
    private VectorClock? _vector;
    private long _seq, _queued, _dropped, _shipped, _evicted;

    /// <param name="clock">The node's clock (HLC and skewed wall clock); null: a private HLC over the system clock, not merged with other nodes.</param>
    /// <param name="clusterNodes">Nodes in the cluster: a vector clock is kept only for at most <see cref="LogRecord.VectorEntriesMax"/>.</param>
    public NodeLog(NodeId self, NodeClock? clock, LoggingSettings settings, long startMs, int clusterNodes = 1)
    {
        Self = self;
        Clock = clock;
        Settings = settings;
        _lamport = LamportClock.Start(self);
        _vector = clusterNodes <= LogRecord.VectorEntriesMax ? VectorClock.Empty : null;
        _ownHlc = clock is null ? new HybridLogicalClock() : null;
        // Unique across restarts: the start time, then a counter.
        _idPrefix = $"{self.Value}.{startMs.ToString("x", CultureInfo.InvariantCulture)}.";
    }

    public NodeId Self { get; }
    public NodeClock? Clock { get; }
    public LoggingSettings Settings { get; }

    /// <summary>Records queued and not yet taken by the shipper.</summary>
    public long Buffered => Interlocked.Read(ref _queued);
    /// <summary>Records refused because the queue was full, plus records the store evicted beyond its bound.</summary>
    public long Dropped => Interlocked.Read(ref _dropped) + Interlocked.Read(ref _evicted);
    /// <summary>Records written to the node's store.</summary>
    public long Shipped => Interlocked.Read(ref _shipped);

    public long LamportCounter
    {
        get { lock (_gate) return _lamport.Counter; }
    }

    /// <summary>Makes <paramref name="log"/> the pipeline of <paramref name="system"/>'s actors.</summary>
    public static void Install(ActorSystem system, NodeLog log) => BySystem.AddOrUpdate(system, log);

    /// <summary>The pipeline of <paramref name="system"/>; null when none is installed (then logging steps do nothing).</summary>
    public static NodeLog? Of(ActorSystem system) => BySystem.TryGetValue(system, out var log) ? log : null;

    /// <summary>The node's vector clock now; null when the cluster is too large to carry one.</summary>
    public VectorClock? Vector
    {
        get { lock (_gate) return _vector; }
    }

    /// <summary>A send event: ticks the Lamport clock and returns the counter the envelope carries (Lamport 1978, IR1).</summary>
    public long LamportSend() => Send().Lamport;

    /// <summary>A receive event of a message stamped <paramref name="remote"/>: max(local, remote) + 1 (IR2).</summary>
    public long LamportReceive(long remote) => Receive(remote, null).Lamport;

    /// <summary>A send event: ticks the Lamport counter and this node's vector entry; returns what the envelope carries.</summary>
    public (long Lamport, VectorClock? Vector) Send()
    {
        lock (_gate) return ((_lamport = _lamport.Tick()).Counter, _vector = _vector?.Increment(Self));
    }

    /// <summary>
    /// A receive event of a message stamped <paramref name="remoteLamport"/> and <paramref name="remoteVector"/>: Lamport
    /// max + 1, the vector's pointwise maximum then this node's entry + 1 (Mattern 1989), so it dominates the send's.
    /// </summary>
    public (long Lamport, VectorClock? Vector) Receive(long remoteLamport, VectorClock? remoteVector)
    {
        lock (_gate)
        {
            _lamport = _lamport.Receive(new LamportTimestamp(remoteLamport, default));
            if (_vector is not null)
            {
                var next = (remoteVector is null ? _vector : _vector.Merge(remoteVector)).Increment(Self);
                // More nodes than announced: stop carrying vectors rather than let them grow without bound.
                _vector = next.Entries.Length <= LogRecord.VectorEntriesMax ? next : null;
            }
            return (_lamport.Counter, _vector);
        }
    }

    /// <summary>
    /// Logs one step under the current trace (<see cref="TraceScope.Current"/>): the one-line call any protocol uses,
    /// e.g. <c>NodeLog.Of(Context.System)?.Step("raft", "applied entry", ("index", "12"))</c>.
    /// </summary>
    public void Step(string protocol, string body, params (string Key, string Value)[] attributes) =>
        Write(Severity.Info, body, TraceScope.Current, Attributes(attributes).SetItem(LogAttributes.Protocol, protocol));

    /// <summary>Logs a record stamped now: a local event for the HLC and the Lamport clock.</summary>
    public void Write(Severity severity, string body, TraceContext? trace = null, ImmutableSortedDictionary<string, string>? attributes = null,
        long? timestampMs = null)
    {
        if (!Settings.Enabled || severity < Settings.MinSeverity) return;
        HlcTimestamp hlc;
        long lamport;
        VectorClock? vector;
        lock (_gate)
        {
            hlc = Clock?.Stamp() ?? _ownHlc!.Now(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            lamport = (_lamport = _lamport.Tick()).Counter;
            vector = _vector = _vector?.Increment(Self);
        }
        Enqueue(severity, body, trace, attributes, hlc, lamport, vector, timestampMs);
    }

    /// <summary>Logs a record with stamps taken by the caller (the network component logs a send with the envelope's own stamps).</summary>
    public void WriteStamped(Severity severity, string body, TraceContext? trace, ImmutableSortedDictionary<string, string>? attributes, HlcTimestamp hlc, long lamport,
        VectorClock? vector = null)
    {
        if (!Settings.Enabled || severity < Settings.MinSeverity) return;
        Enqueue(severity, body, trace, attributes, hlc, lamport, vector, null);
    }

    /// <summary>Takes up to <paramref name="max"/> queued records, oldest first (the shipper's side).</summary>
    public List<LogRecord> Take(int max)
    {
        var batch = new List<LogRecord>(Math.Min(max, 1024));
        while (batch.Count < max && _queue.TryDequeue(out var record))
        {
            Interlocked.Decrement(ref _queued);
            batch.Add(record);
        }
        return batch;
    }

    /// <summary>The shipper wrote <paramref name="written"/> records and evicted <paramref name="evicted"/> old ones beyond the store's bound.</summary>
    public void Stored(int written, long evicted)
    {
        Interlocked.Add(ref _shipped, written);
        Interlocked.Add(ref _evicted, evicted);
    }

    public static ImmutableSortedDictionary<string, string> Attributes(params (string Key, string Value)[] pairs)
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in pairs) builder[key] = value;
        return builder.ToImmutable();
    }

    private void Enqueue(Severity severity, string body, TraceContext? trace, ImmutableSortedDictionary<string, string>? attributes, HlcTimestamp hlc,
        long lamport, VectorClock? vector, long? timestampMs)
    {
        if (Interlocked.Increment(ref _queued) > Settings.QueueRecordsMax)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }
        var now = Clock?.RawMs() ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var id = _idPrefix + Interlocked.Increment(ref _seq).ToString(CultureInfo.InvariantCulture);
        _queue.Enqueue(new LogRecord(id, Self, timestampMs ?? now, now, hlc, lamport, severity, body, trace?.TraceId, trace?.SpanId, attributes, vector));
    }
}
