using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Protocol;

/// <summary>
/// A persistent actor hosting one protocol core: <see cref="ProtocolHostActor{TMessage,TReady}"/>'s duties plus the
/// journal. A Ready's writes are persisted (commands wait meanwhile) before its later messages, applies and answers;
/// every <see cref="SnapshotEveryEvents"/> events it saves <see cref="SnapshotState"/> and then deletes the journal and
/// the older snapshots it covers. Recovery restores the last snapshot and replays later events through <see cref="Replay"/>;
/// the host registers with the network and starts ticking only once recovery is complete.
/// </summary>
public abstract class DurableProtocolHostActor<TMessage, TReady> : ReceivePersistentActor, IWithTimers, IReadyEnvironment<TMessage>
    where TMessage : notnull
    where TReady : class, IReady<TMessage>
{
    private int _eventsSinceSnapshot;

    protected DurableProtocolHostActor(NodeId self, ProtocolHostSettings settings, IActorRef network, Func<long>? clockMs, int snapshotEveryEvents)
    {
        if (snapshotEveryEvents < 1) throw new ArgumentOutOfRangeException(nameof(snapshotEveryEvents), snapshotEveryEvents, "must be at least 1");
        Host = new ProtocolHost<TMessage, TReady>(self, settings, network, clockMs);
        SnapshotEveryEvents = snapshotEveryEvents;

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
        Command<ProtocolFlush>(_ => Host.FlushNow(Core, this));
        Command<SaveSnapshotSuccess>(s =>
        {
            // Snapshot, then delete what it covers; some stores read a bound of 0 as "no bound" and would delete this snapshot too.
            if (s.Metadata.SequenceNr > 0) DeleteMessages(s.Metadata.SequenceNr);
            if (s.Metadata.SequenceNr > 1) DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(f => Log.Warning("{0}: snapshot failed: {1}", PersistenceId, f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => Log.Warning("{0}: deleting events failed: {1}", PersistenceId, f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => Log.Warning("{0}: deleting snapshots failed: {1}", PersistenceId, f.Cause.Message));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public int SnapshotEveryEvents { get; }

    protected ProtocolHost<TMessage, TReady> Host { get; }

    protected abstract IProtocolCore<TMessage, TReady> Core { get; }

    protected NodeId Node => Host.Self;

    protected long NowMs => Host.NowMs;

    /// <summary>Rebuilds the core (and any state machine) from a snapshot saved by <see cref="SnapshotState"/>.</summary>
    protected abstract void RestoreSnapshot(object snapshot);

    /// <summary>Applies one journaled event again during recovery.</summary>
    protected abstract void Replay(object journalEvent);

    /// <summary>Everything needed to recover without the events before it.</summary>
    protected abstract object SnapshotState();

    /// <summary>The journal form of one of the core's writes (the same object unless the journal keeps an older type).</summary>
    protected virtual object JournalEvent(object write) => write;

    protected virtual void OnRecovered() { }

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

    protected void Flush() => Host.Flush(Core, this, Self);

    protected void CommandStatus<TQuery>(Func<object> status) => Command<TQuery>(_ => Sender.Tell(status()));

    public virtual void Send(Outgoing<TMessage> outgoing) => Host.Send(outgoing.To, Host.Settings.RegisteredService, outgoing.Message);

    void IReadyEnvironment<TMessage>.Persist(IReadOnlyList<object> writes, Action onDurable)
    {
        var remaining = writes.Count;
        // Persist, not PersistAsync: commands arriving meanwhile wait, so the core is stepped only between Readies.
        PersistAll(writes.Select(JournalEvent).ToArray(), _ =>
        {
            _eventsSinceSnapshot++;
            if (--remaining > 0) return;
            onDurable();
            if (_eventsSinceSnapshot < SnapshotEveryEvents) return;
            _eventsSinceSnapshot = 0;
            SaveSnapshot(SnapshotState());
        });
    }

    public virtual void Apply(object entry) => throw new InvalidOperationException($"{GetType().Name} has no state machine for {entry.GetType().Name}");

    public virtual void Answer(object answer) { }
}
