using System.Collections.Immutable;
using Akka.Actor;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;
using DistSysActors.Core.Transactions;
using DistSysActors.Core.Transactions.Replicated;
using static DistSysActors.Core.Transactions.Replicated.ReplTxn;

namespace DistSysActors.Actors.Transactions.Replicated;

/// <summary>
/// Replicated mode on this node (<c>distsys.txn.mode = replicated</c>): one durable actor around a
/// <see cref="ReplicatedTxnNode"/>, this node's replica of the coordinating group and of every shard. Its journal holds
/// every group's Raft writes (<see cref="GroupRaftWrite"/>), written pipelined like the Raft actor's; a restart rebuilds
/// every replica from it. Clients' transactions go to the coordinating group's leader wherever they arrive.
/// </summary>
public sealed class ReplicatedTxnActor : DurableProtocolHostActor<ReplTxnMessage, ProtocolReady<ReplTxnMessage>>
{
    private readonly NodeId _self;
    private readonly ImmutableArray<NodeId> _nodes;
    private readonly TxnSettings _settings;
    private readonly (int ElectionTimeoutMs, int HeartbeatMs) _raftTiming;
    private readonly List<object> _recovered = [];
    // Transactions: the client, and the transaction's id once BEGIN is committed. Reads (a key, a view): their own ids,
    // told apart from transactions' by their answer's type (KeyRead, ViewRead).
    private readonly WaitingClients<TxnId?> _waiting;
    private readonly WaitingClients<NoTag> _readers = new("reads waiting", ReplicatedTxnNode.ReadsWaitingMax);
    private ReplicatedTxnNode? _core;

    private sealed record RequestExpired(long RequestId);

    /// <summary>Asks for this node's view of every group; answered with <see cref="ReplStatus"/>.</summary>
    public sealed record GetReplStatus
    {
        public static readonly GetReplStatus Instance = new();
    }

    public sealed record ReplStatus(ImmutableArray<GroupStatus> Groups, int LocksHeld, int Running);

    /// <summary>
    /// A key's committed value, read linearizably, when this node acts for the key's shard (<paramref name="Acting"/>);
    /// otherwise the shard's leader as this node knows it, if any.
    /// </summary>
    public sealed record ReplKeyValue(string Key, string? Value, bool Acting, NodeId? Leader);

    /// <summary>
    /// A transaction as the coordinating group knows it, read linearizably, when this node acts for that group
    /// (<paramref name="Acting"/>); otherwise the group's leader as this node knows it, if any.
    /// </summary>
    public sealed record ReplView(Txn.TxnView? Txn, bool Acting, NodeId? Leader);

    public ReplicatedTxnActor(NodeId self, IReadOnlyCollection<NodeId> nodes, TxnSettings settings, (int ElectionTimeoutMs, int HeartbeatMs) raftTiming, IActorRef network)
        : base(self, new ProtocolHostSettings(Service, TickInterval: TimeSpan.FromMilliseconds(settings.TickMs)), network, clockMs: null,
            snapshotEveryEvents: int.MaxValue, journalWrites: JournalWrites.Pipelined)
    {
        _self = self;
        _nodes = [.. nodes.Append(self).Distinct().Order()];
        _settings = settings;
        _raftTiming = raftTiming;
        PersistenceId = $"txn-replicated-node-{self}";
        _waiting = new WaitingClients<TxnId?>("requests waiting", TxnRoleActor.RequestsWaitingMax, () => Timers);

        Command<ReplTxnMessage>(StepCore);
        Command<TxnLocal.Submit>(OnSubmit);
        Command<RequestExpired>(e =>
        {
            if (!_waiting.TryRemove(e.RequestId, out var asker, out var known)) return;
            asker.Tell(known is { } id
                ? new Txn.TxnAnswer(e.RequestId, id, TxnState.Unknown, "the outcome is not known yet")
                : new TxnLocal.Refused("the coordinating group did not confirm the transaction in time: the outcome is unknown", 503));
        });
        Command<TxnLocal.GetView>(q => Read(requestId => _core!.ReadView(requestId, q.Id, NowMs)));
        Command<TxnLocal.ReadKey>(q => Read(requestId => _core!.ReadKey(requestId, q.Key, NowMs)));
        Command<GetReplStatus>(_ => Sender.Tell(new ReplStatus(_core!.Status(),
            _core.Groups.Shards.Where(_core.Acts).Sum(s => _core.Participant(s).Locks.Count),
            _core.Acts(TxnGroups.Coordinator) ? _core.Coordinator.RunningCount : 0)));
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> nodes, TxnSettings settings, (int ElectionTimeoutMs, int HeartbeatMs) raftTiming, IActorRef network) =>
        Akka.Actor.Props.Create(() => new ReplicatedTxnActor(self, nodes, settings, raftTiming, network));

    public override string PersistenceId { get; }

    protected override IProtocolCore<ReplTxnMessage, ProtocolReady<ReplTxnMessage>> Core => _core!;

    /// <summary>Raft's timing counted in ticks of the transaction actor's timer (distsys.txn.tick-ms).</summary>
    public static RaftConfig RaftConfigOf(NodeId self, ImmutableArray<NodeId> nodes, int tickMs, int electionTimeoutMs, int heartbeatMs) => new()
    {
        Id = self,
        Voters = nodes,
        TickMs = tickMs,
        HeartbeatTicks = Math.Max(1, heartbeatMs / tickMs),
        ElectionTicks = Math.Max(Math.Max(1, heartbeatMs / tickMs) + 1, electionTimeoutMs / tickMs),
    };

    private void OnSubmit(TxnLocal.Submit request)
    {
        if (TxnOps.Validate(request.Ops) is { } error) { Sender.Tell(new TxnLocal.Refused(error, 400)); return; }
        if (_waiting.Overloaded is { } overloaded) { Sender.Tell(new TxnLocal.Refused(overloaded, 503)); return; }
        var requestId = _waiting.NextId();
        _waiting.Add(requestId, Sender, null, TimeSpan.FromMilliseconds(request.TimeoutMs), new RequestExpired(requestId));
        _core!.Begin(requestId, request.Protocol, request.Ops, request.IdempotencyKey, request.Fingerprint, NowMs);
        Flush();
    }

    /// <summary>
    /// A linearizable read for the asker: the core answers it by request id (served once its leadership is confirmed, or
    /// not served at once); it bounds the reads it holds, so this record of waiting readers is bounded too.
    /// </summary>
    private void Read(Action<long> start)
    {
        var requestId = _readers.NextId();
        _readers.Add(requestId, Sender, default);
        start(requestId);
        Flush();
    }

    public override void Answer(object answer)
    {
        switch (answer)
        {
            case KeyRead read:
                if (_readers.TryRemove(read.RequestId, out var reader)) reader.Tell(new ReplKeyValue(read.Key, read.Value, read.Served, read.Leader));
                return;
            case ViewRead read:
                if (_readers.TryRemove(read.RequestId, out var viewer)) viewer.Tell(new ReplView(read.View, read.Served, read.Leader));
                return;
            case BeginDurable b:
                _waiting.SetTag(b.RequestId, b.Id);
                break;
            case Outcome o when _waiting.TryRemove(o.RequestId, out var asker):
                asker.Tell(o.Answer);
                break;
            case Refused r when _waiting.TryRemove(r.RequestId, out var asker):
                asker.Tell(new TxnLocal.Refused(r.Reason, r.Unavailable ? 503 : 422));
                break;
        }
    }

    protected override void RestoreSnapshot(object snapshot) => throw new InvalidOperationException("replicated transactions take no snapshots");

    protected override void Replay(object journalEvent) => _recovered.Add(journalEvent);

    protected override bool ShouldTakeSnapshot() => false;

    protected override object SnapshotState() => throw new InvalidOperationException("replicated transactions take no snapshots");

    protected override void OnRecovered()
    {
        // The host's seeded random source (logged by the host): election timeouts of the groups differ per node.
        _core = new ReplicatedTxnNode(_self, _nodes, _settings.Shards, new ReplTxnRecordCodec(Context.System), (long)Host.Random.NextUInt64(), _settings.Config,
            _ => RaftConfigOf(_self, _nodes, _settings.TickMs, _raftTiming.ElectionTimeoutMs, _raftTiming.HeartbeatMs), _recovered);
        _recovered.Clear();
    }
}
