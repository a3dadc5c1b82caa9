using Akka.Actor;
using Akka.Event;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.Protocol;
using DistSysActors.Actors.StateMachine;
using DistSysActors.Core;
using DistSysActors.Core.Paxos;
using DistSysActors.Core.Protocol;
using static DistSysActors.Core.Paxos.MultiPaxos;

namespace DistSysActors.Actors.Paxos;

/// <summary>
/// One Multi-Paxos replica serving the key-value store (<see cref="KvService"/>, the same service Raft hosts, through
/// <see cref="IConsensusLog"/>): a <see cref="DurableProtocolHostActor{TMessage,TReady}"/> around a
/// <see cref="MultiPaxosNode"/>, its journal pipelined (messages keep stepping the core while a write is in flight).
/// Every snapshot-every-slots applied slots it hands the core a snapshot of the store (a journal record; the core then
/// drops the accepted slots it covers), and the host's own snapshots bound the journal.
/// </summary>
public sealed class MultiPaxosActor : DurableProtocolHostActor<Message, ProtocolReady<Message>>, IConsensusLog
{
    private readonly NodeId _self;
    private readonly IReadOnlyCollection<NodeId> _nodes;
    private readonly PaxosSettings _settings;
    private readonly TimeSpan _requestTimeout;
    private readonly IReplicatedService _service;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private PersistentState? _recoveredState;
    private readonly List<object> _recovered = [];
    private MultiPaxosNode? _node;

    public MultiPaxosActor(NodeId self, IReadOnlyCollection<NodeId> nodes, PaxosSettings settings, KvSettings kv, IActorRef network, TimeSpan requestTimeout)
        : base(self, new ProtocolHostSettings(Service, TickInterval: TimeSpan.FromMilliseconds(settings.TickMs), BatchFlushes: true), network,
            clockMs: null, snapshotEveryEvents: JournalEventsPerSnapshot, JournalWrites.Pipelined)
    {
        _self = self;
        _nodes = nodes;
        _settings = settings;
        _requestTimeout = requestTimeout;
        _service = new KvService(this, kv, requestTimeout, Context.GetLogger());
        PersistenceId = $"paxos-node-{self}";

        Command<Message>(StepCore);
        Command<PaxosProtocol.GetStatus>(_ => Sender.Tell(Status()));
        Command<Sweep>(_ => _service.Expire(DateTime.UtcNow));
        CommandAny(message =>
        {
            if (!_service.Receive(message, Sender)) Unhandled(message);
        });
    }

    /// <summary>Journal events between two saved snapshots of the replica's whole state.</summary>
    public const int JournalEventsPerSnapshot = 1_000;

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> nodes, PaxosSettings settings, KvSettings kv, IActorRef network, TimeSpan requestTimeout) =>
        Akka.Actor.Props.Create(() => new MultiPaxosActor(self, nodes, settings, kv, network, requestTimeout));

    public override string PersistenceId { get; }

    protected override IProtocolCore<Message, ProtocolReady<Message>> Core => _node!;

    protected override void RestoreSnapshot(object snapshot)
    {
        _recoveredState = (PersistentState)snapshot;
        _recovered.Clear();
    }

    protected override void Replay(object journalEvent) => _recovered.Add(journalEvent);

    protected override object SnapshotState() => _node!.CurrentState();

    protected override void OnRecovered()
    {
        var seed = _settings.SeedFor(_self);
        _node = new MultiPaxosNode(_settings.ConfigFor(_self, _nodes), new DeterministicRandom(seed), _recoveredState, _recovered, NowMs);
        if (_node.Snapshot is { } snapshot) _service.Restore(snapshot.Data);
        _log.Info("paxos node {0} recovered promise {1}, snapshot at {2}, {3} accepted slots after it; seed {4}",
            _self, _node.Promised, _node.CompactedThrough, _node.AcceptedSlots.Count, seed);
        _recovered.Clear();
        _recoveredState = null;
        Timers.StartPeriodicTimer(Sweep.Instance, Sweep.Instance, _requestTimeout);
        foreach (var (timer, interval) in _service.Timers) Timers.StartPeriodicTimer(timer, timer, interval);
    }

    public override void Apply(object entry)
    {
        switch (entry)
        {
            case InstallSnapshot install:
                _service.Restore(install.Snapshot.Data);
                break;
            case Committed committed when committed.Slot > _service.AppliedIndex:
                _service.Apply(committed.Slot, committed.Command);
                break;
        }
    }

    public override void Answer(object answer)
    {
        switch (answer)
        {
            case ReadReady ready: _service.ReadConfirmed(ready.RequestId); break;
            case ReadDropped dropped: _service.ReadDropped(dropped.RequestId); break;
            case LeaderChanged changed:
                _log.Info("paxos node {0}: leader {1} at ballot {2}", _self, changed.LeaderId?.ToString() ?? "unknown", changed.Ballot);
                if (changed.Self) _service.LeadershipGained();
                if (changed.LeaderId is not null) _service.LeaderChanged();
                break;
        }
    }

    /// <summary>Between Readies: a snapshot of the store once enough slots were applied since the last one.</summary>
    protected override void AfterReadies()
    {
        var node = _node!;
        var applied = _service.AppliedIndex;
        if (applied <= node.AppliedThrough && applied - node.CompactedThrough >= _settings.SnapshotEverySlots)
        {
            node.Compact(applied, _service.Snapshot());
            Flush();
        }
    }

    private PaxosProtocol.ReplicaStatus Status()
    {
        var service = _service.Status;
        return new PaxosProtocol.ReplicaStatus(_node!.GetStatus(), service.PendingWrites, service.PendingReads, service.Sessions);
    }

    bool IConsensusLog.IsLeader => _node?.IsLeader == true;

    string? IConsensusLog.Propose(byte[] command)
    {
        var result = _node!.Propose(command, NowMs);
        Flush();
        return result.Status switch
        {
            ProposeStatus.Dropped when result.LeaderId is null => "no Multi-Paxos leader is known",
            ProposeStatus.Dropped => $"overloaded: {result.Reason}",
            _ => null,
        };
    }

    void IConsensusLog.ConfirmRead(long requestId, bool lease)
    {
        _node!.ReadIndex(requestId, lease, NowMs);
        Flush();
    }

    private sealed record Sweep
    {
        public static readonly Sweep Instance = new();
    }
}
