using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using DistSysActors.Actors.Protocol;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.StateMachine;
using DistSysActors.Core;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.Raft;

/// <summary>
/// One replica of one Raft group: hosts a <see cref="RaftNode"/> and the replicated service the group runs (by default
/// the key-value <see cref="KvService"/>, a plain class driven through <see cref="IReplicatedService"/>). It is a
/// <see cref="DurableProtocolHostActor{TMessage,TReady}"/>: the host ticks the core, batches flushes and executes each
/// Ready in the documented order — send the leader's pre-persist messages, persist term/vote/entries (pipelined: messages
/// keep stepping the core while a write is in flight), send the messages that promise them, apply committed entries to
/// the service, then Advance — and saves snapshots and compacts the journal. This actor says how Raft's writes are
/// journaled and applied (RaftActor.Ready.cs), when to snapshot and how to recover (RaftActor.Snapshots.cs), and serves
/// membership and leadership transfer (RaftActor.Admin.cs).
/// </summary>
public sealed partial class RaftActor : DurableProtocolHostActor<RaftMessage, Ready>, IConsensusLog
{
    private readonly NodeId _self;
    private readonly string _group;
    private readonly ImmutableArray<NodeId> _voters;
    private readonly RaftSettings _settings;
    private readonly TimeSpan _requestTimeout;
    private readonly IReplicatedService _service;
    // How log lines name this replica: "raft node 1" in the default group, "raft group orders node 1" in another.
    private readonly string _who;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly List<LogEntry> _recoveredLog = new();
    private HardState _recoveredHardState = HardState.Empty;
    private RaftSnapshot? _recoveredSnapshot;
    // What the journal (with the latest saved snapshot) holds as term/vote/commit: what a snapshot saved now must carry.
    private HardState _persistedHardState = HardState.Empty;
    // The membership of the applied entries (the committed one), which admin requests wait for.
    private Membership _appliedMembership = Membership.Empty;

    private RaftNode? _node;
    private readonly List<IActorRef> _readyWaiters = new();

    public RaftActor(NodeId self, string group, IReadOnlyCollection<NodeId> voters, RaftSettings settings, IActorRef network, TimeSpan requestTimeout,
        Func<IConsensusLog, RaftSettings, TimeSpan, IReplicatedService> service)
        : base(self, HostSettings(group, settings), network, clockMs: null, snapshotEveryEvents: int.MaxValue, JournalWrites.Pipelined)
    {
        _self = self;
        _group = group;
        _voters = voters.Order().ToImmutableArray();
        _settings = settings;
        _requestTimeout = requestTimeout;
        _service = service(this, settings, requestTimeout);
        _who = group == DefaultGroup ? $"raft node {self}" : $"raft group {group} node {self}";
        PersistenceId = PersistenceIdOf(group, self);

        Command<RaftMessage>(StepTraced);
        Command<AwaitReady>(_ => OnAwaitReady());
        Command<RaftProtocol.GetStatus>(_ => Sender.Tell(Status()));
        Command<Sweep>(_ =>
        {
            var now = DateTime.UtcNow;
            _service.Expire(now);
            ExpireAdmin(now);
        });
        CommandAny(message =>
        {
            if (!OnAdminCommand(message) && !_service.Receive(message, Sender)) Unhandled(message);
        });
    }

    /// <summary>The group's network service (raft, or raft/{group}), ticked every tick-ms, flushes batched per burst of messages.</summary>
    private static ProtocolHostSettings HostSettings(string group, RaftSettings settings)
    {
        if (!IsValidGroup(group)) throw new ArgumentException($"invalid Raft group name '{group}'", nameof(group));
        return new ProtocolHostSettings(Service, group == DefaultGroup ? null : group, TimeSpan.FromMilliseconds(settings.TickMs), BatchFlushes: true);
    }

    /// <summary>A replica of the default group, serving the key-value store (persistence id raft-node-{id}, network service raft).</summary>
    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> voters, RaftSettings settings, IActorRef network, TimeSpan requestTimeout) =>
        Props(self, DefaultGroup, voters, settings, network, requestTimeout);

    /// <summary>A replica of <paramref name="group"/>, serving the key-value store; see <see cref="PersistenceIdOf"/> and <see cref="ServiceOf"/>.</summary>
    public static Props Props(NodeId self, string group, IReadOnlyCollection<NodeId> voters, RaftSettings settings, IActorRef network, TimeSpan requestTimeout) =>
        Akka.Actor.Props.Create(() => new RaftActor(self, group, voters, settings, network, requestTimeout, KeyValueServiceFactory));

    private static readonly Func<IConsensusLog, RaftSettings, TimeSpan, IReplicatedService> KeyValueServiceFactory =
        (log, settings, requestTimeout) => new KvService(log, settings.Kv, requestTimeout, Context.GetLogger());

    public override string PersistenceId { get; }

    // ------------------------------------------------------------------ recovery (snapshots: RaftActor.Snapshots.cs)

    protected override IProtocolCore<RaftMessage, Ready> Core => _node!;

    protected override void Replay(object journalEvent)
    {
        switch (journalEvent)
        {
            case RaftHardStateSaved hs:
                _recoveredHardState = hs.ToHardState();
                break;
            case RaftEntriesSaved saved:
                // FromIndex is absolute; the recovered log starts after the snapshot, whose entries are never rewritten.
                var snapshotIndex = _recoveredSnapshot?.Meta.Index ?? 0;
                var keep = (int)Math.Max(0, saved.FromIndex - 1 - snapshotIndex);
                if (_recoveredLog.Count > keep) _recoveredLog.RemoveRange(keep, _recoveredLog.Count - keep);
                _recoveredLog.AddRange(saved.Entries.Where(e => e.Index > snapshotIndex).Select(e => e.ToEntry()));
                break;
        }
    }

    protected override void OnRecovered() => StartNode();

    private void StartNode()
    {
        var seed = _settings.Seed != 0 ? _settings.Seed : (long)_self.Value * 1_000_003 ^ DateTime.UtcNow.Ticks;
        var config = new RaftConfig
        {
            Id = _self,
            Voters = _voters,
            ElectionTicks = _settings.ElectionTicks,
            // The lease is measured on the host's monotonic clock (NowMs), which this converts ticks to.
            TickMs = _settings.TickMs,
            HeartbeatTicks = _settings.HeartbeatTicks,
            PreVote = _settings.PreVote,
            CheckQuorum = _settings.CheckQuorum,
            LeaseClockDriftTicks = _settings.LeaseClockDriftTicks,
            AppendEntriesMax = _settings.AppendEntriesMax,
            AppendBytesMax = _settings.AppendBytesMax,
            InflightMessagesMax = _settings.InflightMessagesMax,
            InflightBytesMax = _settings.InflightBytesMax,
            UncommittedEntriesMax = _settings.UncommittedEntriesMax,
            SnapshotChunkBytes = _settings.SnapshotChunkBytes,
            SnapshotChunksInflightMax = _settings.SnapshotChunksInflightMax,
            CompactionMarginEntries = _settings.CompactionMarginEntries,
            AutoPromoteLearners = _settings.AutoPromoteLearners,
            TransferTimeoutElections = _settings.TransferTimeoutElections,
            ApplyDelayMs = _settings.ApplyDelayMs,
        };
        _node = new RaftNode(config, new DeterministicRandom(seed),
            new RaftPersistentState(_recoveredHardState, _recoveredLog.ToImmutableArray(), _recoveredSnapshot));
        _persistedHardState = _recoveredHardState;
        _appliedMembership = _recoveredSnapshot?.Meta.Membership ?? new Membership(_voters, []);
        _log.Info("{0} recovered term {1}, snapshot at {2}, {3} log entries after it, commit {4}; election seed {5}",
            _who, _recoveredHardState.Term, _recoveredSnapshot?.Meta.Index ?? 0, _recoveredLog.Count, _recoveredHardState.Commit, seed);
        _recoveredLog.Clear();
        _recoveredSnapshot = null;
        // The host registers with the network and starts the tick timer next; these are the service's own timers.
        Timers.StartPeriodicTimer(Sweep.Instance, Sweep.Instance, _requestTimeout);
        foreach (var (timer, interval) in _service.Timers) Timers.StartPeriodicTimer(timer, timer, interval);
    }

    // ------------------------------------------------------------------ commands

    protected override void OnTick()
    {
        base.OnTick();
        CheckAdmin();
    }

    private void OnAwaitReady()
    {
        if (_node!.LeaderId is { } leader) Sender.Tell(new RaftReady(leader.Value, _node.Term));
        else if (_readyWaiters.Count < _settings.PendingRequestsMax) _readyWaiters.Add(Sender);
        else Sender.Tell(new Unavailable("overloaded: too many readiness waiters", Unknown: false));
    }

    private NodeStatus Status()
    {
        var node = _node!;
        var service = _service.Status;
        return new NodeStatus(node.Status, service.PendingWrites, service.PendingReads, service.Sessions, true)
        {
            FirstLogIndex = node.FirstLogIndex,
            CommittedMembership = _appliedMembership,
            SnapshotSaving = SnapshotSaving,
            PendingAdmin = _admin.Count,
            Group = _group,
            Replication = node.Replication(NowMs),
        };
    }

    /// <summary>Membership and leadership-transfer requests (RaftActor.Admin.cs); false when the message is not one.</summary>
    private partial bool OnAdminCommand(object message);

    // ------------------------------------------------------------------ the log as the service sees it

    bool IConsensusLog.IsLeader => _node?.Role == RaftRole.Leader;

    string? IConsensusLog.Propose(byte[] command)
    {
        var node = _node!;
        NoteCommand(command, LogPipeline.TraceScope.Current);
        var result = node.Propose(command, NowMs);
        Flush();
        return result.Status == ProposeStatus.Dropped ? DropReason(node, result) : null;
    }

    long? IConsensusLog.LagMs => _node?.LocalLagMs(NowMs);

    void IConsensusLog.ConfirmRead(long requestId, bool lease)
    {
        _node!.ReadIndex(requestId, lease ? ReadMode.Lease : ReadMode.ReadIndex, NowMs);
        Flush();
    }

    /// <summary>Why the core dropped a proposal; back pressure and transfers answer "overloaded" (503, safe to retry after a pause).</summary>
    private static string DropReason(RaftNode node, ProposeResult result)
    {
        if (result.LeaderId is null) return "no Raft leader is known";
        if (node.Role != RaftRole.Leader) return $"the proposal could not be forwarded to the leader ({result.Reason})";
        return $"overloaded: {result.Reason ?? "the leader did not accept the proposal"}";
    }

    private sealed record Sweep
    {
        public static readonly Sweep Instance = new();
    }
}
