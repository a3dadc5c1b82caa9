using Akka.Actor;
using Akka.Event;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// Moves a node's queued records (<see cref="NodeLog"/>) into its <see cref="LogStore"/> every flush interval, a batch
/// per transaction, and answers queries over the store. A batch the store fails to write is kept and tried again (the
/// queue's bound then decides what is dropped, and counts it); a record is acknowledged as written once its transaction
/// commits. The store is opened in <see cref="PreStart"/>, so a restart after a failure reopens it.
/// </summary>
public sealed partial class LogShipperActor : ReceiveActor, IWithTimers
{
    public const string Name = "logging";

    private readonly NodeLog _log;
    private readonly string _path;
    private readonly ILoggingAdapter _akkaLog = Context.GetLogger();
    private LogStore? _store;
    private OtlpLogExport? _otlp;
    private List<LogRecord> _pending = [];

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// Ask: the records of the store matching the query, answered with <see cref="Records"/>; with <paramref name="Aggregate"/>,
    /// of the aggregate store of every node's records (only on the aggregator: elsewhere the answer is empty).
    /// </summary>
    public sealed record Query(LogQuery Filter, bool Aggregate = false);
    public sealed record Records(IReadOnlyList<LogRecord> Items);

    /// <summary>Ask: the pipeline's counters, answered with <see cref="Status"/>.</summary>
    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <param name="Buffered">Records queued or waiting to be written.</param>
    /// <param name="Shipped">Records written to the store since the node started.</param>
    /// <param name="Dropped">Records lost: refused by the full queue, or evicted by the store's bound.</param>
    /// <param name="Stored">Records in the store now.</param>
    public sealed record Status(long Buffered, long Shipped, long Dropped, long Stored);

    private sealed record FlushDue
    {
        public static readonly FlushDue Instance = new();
    }

    public LogShipperActor(string path, ShippingPlan? shipping = null)
    {
        _shipping = shipping;
        _log = NodeLog.Of(Context.System)
            ?? throw new InvalidOperationException("the log shipper needs the node's log pipeline (DistSysNodeRuntime.CreateContext installs it)");
        _path = path;
        Receive<FlushDue>(_ =>
        {
            Flush();
            Ship();
        });
        Receive<Query>(q =>
        {
            Flush();
            Sender.Tell(new Records((q.Aggregate ? _aggregateStore?.Query(q.Filter) : _store?.Query(q.Filter)) ?? []));
        });
        Receive<GetStatus>(_ => Sender.Tell(CurrentStatus()));
        ReceiveShipping();
    }

    /// <summary>A shipper into the SQLite file at <paramref name="path"/>, for the <see cref="NodeLog"/> installed in its actor system.</summary>
    public static Props Props(string path) => Akka.Actor.Props.Create(() => new LogShipperActor(path, null));

    /// <summary>A shipper that also ships every record to the aggregator (<paramref name="shipping"/>; null: local store only).</summary>
    public static Props Props(string path, ShippingPlan? shipping) => Akka.Actor.Props.Create(() => new LogShipperActor(path, shipping));

    protected override void PreStart()
    {
        _store = new LogStore(_path, _log.Settings.StoreRecordsMax);
        if (_log.Settings.OtlpEndpoint is { } endpoint) _otlp = OtlpLogExport.ToCollector(_log.Self, endpoint);
        var interval = TimeSpan.FromMilliseconds(_log.Settings.FlushIntervalMs);
        Timers.StartPeriodicTimer(FlushDue.Instance, FlushDue.Instance, interval);
        StartShipping();
    }

    protected override void PostStop()
    {
        try { Flush(); }
        finally
        {
            _store?.Dispose();
            _aggregateStore?.Dispose();
            _otlp?.Dispose();
        }
    }

    private void Flush()
    {
        if (_store is null) return;
        while (true)
        {
            if (_pending.Count == 0) _pending = _log.Take(_log.Settings.FlushBatchMax);
            if (_pending.Count == 0) return;
            try
            {
                var unshippedBefore = _store.EvictedUnshipped;
                var (inserted, evicted) = _store.Append(_pending);
                // Shipping to an aggregator, only records evicted before they were shipped are lost.
                _log.Stored(inserted, _shipping is null ? evicted : _store.EvictedUnshipped - unshippedBefore);
                // Once written here, also out to the OpenTelemetry collector, when one is configured.
                _otlp?.Export(_pending);
                _pending = [];
            }
            catch (Exception e)
            {
                _akkaLog.Warning("log store {0} refused a batch of {1} records, kept for the next flush: {2}", _path, _pending.Count, e.Message);
                return;
            }
        }
    }
}
