using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Protocol;

/// <summary>
/// A persistent actor hosting one protocol core: <see cref="ProtocolHostActor{TMessage,TReady}"/>'s duties plus the
/// journal, done once here for every durable topic. It executes Readies through <see cref="ReadyExecutor"/> (send,
/// persist, send what promises the write, apply, answer, Advance), one at a time, the journal waiting as
/// <see cref="JournalWrites"/> says; a write may carry a snapshot to save before its events. When
/// <see cref="ShouldTakeSnapshot"/> says so, between writes, it saves <see cref="SnapshotState"/> and then deletes the
/// journal and the older snapshots it covers. A rejected journal write restarts the actor (its state is rebuilt from the
/// journal) instead of waiting forever. Recovery restores the last snapshot and replays later events through
/// <see cref="Replay"/>; the host registers with the network and starts ticking only once recovery is complete.
/// </summary>
public abstract partial class DurableProtocolHostActor<TMessage, TReady> : ReceivePersistentActor, IWithTimers, IReadyEnvironment<TMessage>
    where TMessage : notnull
    where TReady : class, IReady<TMessage>
{
    /// <summary>Pause before a failed snapshot save is tried again; the journal still holds everything meanwhile.</summary>
    public static readonly TimeSpan SnapshotRetryDelay = TimeSpan.FromSeconds(1);

    private readonly JournalWrites _journalWrites;
    private int _eventsSinceSnapshot;
    // True from a Ready's Persist until its writes are durable: no further Ready is taken meanwhile.
    private bool _writeInFlight;
    // True while Pump's loop runs: a Ready finished inside it needs no new Pump.
    private bool _executing;
    private readonly Action _afterAdvance;
    private SnapshotSave? _snapshotSave;
    private PendingWrite? _waitingForSave;
    private DateTime _snapshotRetryAt = DateTime.MinValue;

    /// <summary>The one snapshot save in flight: the host's own, or the one a write carries (then its events follow).</summary>
    private sealed record SnapshotSave(object State, long SequenceNr, PendingWrite? Write);

    private sealed record PendingWrite(JournalPlan Plan, Action OnDurable);

    private sealed record RetrySnapshotSave
    {
        public static readonly RetrySnapshotSave Instance = new();
    }

    protected DurableProtocolHostActor(NodeId self, ProtocolHostSettings settings, IActorRef network, Func<long>? clockMs, int snapshotEveryEvents,
        JournalWrites journalWrites = JournalWrites.Blocking)
    {
        if (snapshotEveryEvents < 1) throw new ArgumentOutOfRangeException(nameof(snapshotEveryEvents), snapshotEveryEvents, "must be at least 1");
        Host = new ProtocolHost<TMessage, TReady>(self, settings, network, clockMs);
        _tracing = new HostTracing(settings.Service);
        SnapshotEveryEvents = snapshotEveryEvents;
        _journalWrites = journalWrites;
        _afterAdvance = AfterAdvance;

        Recover<SnapshotOffer>(offer => RestoreSnapshot(offer.Snapshot));
        Recover<RecoveryCompleted>(_ =>
        {
            OnRecovered();
            Host.Start(Self, Timers);
            OnTick();
        });
        Recover<object>(e =>
        {
            Replay(e);
            _eventsSinceSnapshot++;
        });

        Command<ProtocolTick>(_ => OnTick());
        Command<ProtocolFlush>(_ =>
        {
            Host.FlushArrived();
            Pump();
        });
        Command<SaveSnapshotSuccess>(OnSnapshotSaved);
        Command<SaveSnapshotFailure>(OnSnapshotFailed);
        Command<RetrySnapshotSave>(_ => StartWaitingSave());
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => Log.Warning("{0}: could not delete events through {1}: {2}", PersistenceId, f.ToSequenceNr, f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => Log.Warning("{0}: could not delete old snapshots: {1}", PersistenceId, f.Cause.Message));
    }

    private readonly HostTracing _tracing;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Handles each message under its trace (<see cref="HostTracing"/>), so the steps it logs and the messages it sends carry it.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        using var scope = TraceScope.Enter(_tracing.Enter(message, Context.System));
        return base.AroundReceive(receive, message);
    }

    public int SnapshotEveryEvents { get; }

    protected ProtocolHost<TMessage, TReady> Host { get; }

    protected abstract IProtocolCore<TMessage, TReady> Core { get; }

    protected NodeId Node => Host.Self;

    protected long NowMs => Host.NowMs;

    /// <summary>True while a snapshot (the host's own or one a write carries) is being saved.</summary>
    protected bool SnapshotSaving => _snapshotSave is not null;

    // ------------------------------------------------------------------ what a topic supplies

    /// <summary>Rebuilds the core (and any state machine) from a snapshot saved by <see cref="SnapshotState"/> or a write's plan.</summary>
    protected abstract void RestoreSnapshot(object snapshot);

    /// <summary>Applies one journaled event again during recovery.</summary>
    protected abstract void Replay(object journalEvent);

    /// <summary>Everything needed to recover without the events before it, at this moment (no write is in flight).</summary>
    protected abstract object SnapshotState();

    /// <summary>Whether to save <see cref="SnapshotState"/> now; by default every <see cref="SnapshotEveryEvents"/> journal events.</summary>
    protected virtual bool ShouldTakeSnapshot() => _eventsSinceSnapshot >= SnapshotEveryEvents;

    /// <summary>The host's own snapshot <paramref name="state"/> is durable (the journal it covers is being deleted).</summary>
    protected virtual void OnSnapshotTaken(object state) { }

    /// <summary>The journal form of one of the core's writes (the same object unless the journal keeps an older type).</summary>
    protected virtual object JournalEvent(object write) => write;

    /// <summary>How one of the core's writes is stored; by default one event, <see cref="JournalEvent"/>.</summary>
    protected virtual JournalPlan PlanWrite(object write) => JournalPlan.Of(JournalEvent(write));

    protected virtual void OnRecovered() { }

    /// <summary>Runs before the host takes the core's Readies (e.g. to notice a change of role first).</summary>
    protected virtual void BeforeReadies() { }

    /// <summary>Runs once the core has no Ready left and no write is in flight.</summary>
    protected virtual void AfterReadies() { }

    // ------------------------------------------------------------------ driving the core

    protected void StepCore(TMessage message)
    {
        Core.Step(message, NowMs);
        Flush();
    }

    protected virtual void OnTick()
    {
        Core.Tick(NowMs);
        Flush();
    }

    /// <summary>Executes the core's Readies now, or, with batched flushes, once the messages already queued are stepped.</summary>
    protected void Flush()
    {
        if (!Host.Settings.BatchFlushes) Pump();
        else if (Core.HasReady) Host.ScheduleFlush(Self);
    }

    protected void CommandStatus<TQuery>(Func<object> status) => Command<TQuery>(_ => Sender.Tell(status()));

    private void Pump()
    {
        BeforeReadies();
        _executing = true;
        try
        {
            // While a write is in flight a core hands out only Readies without writes (IProtocolCore.HasReady), which
            // complete at once; the next write waits until this one is durable and Pump runs again.
            while (Core.HasReady)
            {
                var ready = Core.TakeReady();
                if (_writeInFlight && ready.Writes.Count > 0)
                    throw new InvalidOperationException($"{PersistenceId}: the core handed out a Ready with writes while a write is in flight");
                ReadyExecutor.Execute(Core, ready, this, _afterAdvance);
            }
        }
        finally
        {
            _executing = false;
        }
        if (_writeInFlight) return;
        MaybeTakeSnapshot();
        AfterReadies();
    }

    private void AfterAdvance()
    {
        // A write finished after Pump returned (journal, snapshot save): take the Readies buffered meanwhile.
        if (!_executing) Pump();
    }

    // ------------------------------------------------------------------ the environment

    public virtual void Send(Outgoing<TMessage> outgoing) => Host.Send(outgoing.To, Host.Settings.RegisteredService, outgoing.Message);

    void IReadyEnvironment<TMessage>.Persist(IReadOnlyList<object> writes, Action onDurable)
    {
        JournalPlan plan;
        if (writes.Count == 1) plan = PlanWrite(writes[0]);
        else
        {
            var events = new List<object>(writes.Count);
            foreach (var write in writes)
            {
                var p = PlanWrite(write);
                if (p.Snapshot is not null) throw new InvalidOperationException($"{PersistenceId}: a write that carries a snapshot must be its Ready's only write");
                events.AddRange(p.Events);
            }
            plan = new JournalPlan(null, events);
        }
        var pending = new PendingWrite(plan, onDurable);
        if (plan.Snapshot is null) { PersistEvents(pending); return; }
        _writeInFlight = true;
        _waitingForSave = pending;
        StartWaitingSave();
    }

    private void PersistEvents(PendingWrite pending)
    {
        var events = pending.Plan.Events;
        if (events.Count == 0)
        {
            _writeInFlight = false;
            Durable(pending);
            return;
        }
        _writeInFlight = true;
        // Counted, not compared: a journal may hand back copies of the events it stored.
        var remaining = events.Count;
        Action<object> handler = _ =>
        {
            _eventsSinceSnapshot++;
            if (--remaining > 0) return;
            _writeInFlight = false;
            Durable(pending);
        };
        if (_journalWrites == JournalWrites.Pipelined) PersistAllAsync(events, handler);
        else PersistAll(events, handler);
    }

    private static void Durable(PendingWrite pending)
    {
        pending.Plan.OnDurable?.Invoke();
        pending.OnDurable();
    }

    public virtual void Apply(object entry) => throw new InvalidOperationException($"{GetType().Name} has no state machine for {entry.GetType().Name}");

    public virtual void Answer(object answer) { }

    /// <summary>A journal that refuses a write would leave the Ready waiting forever: restart, recovering what is durable.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Log.Error(cause, "{0}: the journal rejected event {1} ({2}); restarting from what is durable", PersistenceId, sequenceNr, @event.GetType().Name);
        throw new JournalWriteRejectedException(PersistenceId, sequenceNr, cause);
    }
}
