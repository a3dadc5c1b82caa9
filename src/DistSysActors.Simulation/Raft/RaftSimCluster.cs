using System.Collections.Immutable;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Simulation.Raft;

/// <summary>
/// A Raft cluster on the simulator with the safety invariants checked after every event, plus the helpers
/// scenarios need: find the leader, submit a command until enough nodes applied it, crash and restart, change the
/// membership and transfer leadership at the current leader.
/// </summary>
public sealed class RaftSimCluster : IKvSimCluster
{
    private readonly Func<RaftConfig, RaftConfig>? _configure;
    private readonly RaftNodeView[] _views;
    private readonly IReadOnlyList<LogEntry>[] _persistedLogs;
    private readonly Dictionary<NodeId, int> _snapshotsTaken = [];
    private readonly Dictionary<NodeId, int> _snapshotsInstalled = [];
    // Registration nonces, far above any client id (a log index) so a registration never looks like a client's command.
    private long _nextNonce = 1L << 40;
    private long _nextRequestId;
    private readonly Queue<long> _clientPool = new();
    private readonly Dictionary<long, long> _registrations = [];
    private int _registrationsScanned;

    /// <param name="size">Nodes in the simulator, ids 1..size.</param>
    /// <param name="voters">How many of them (ids 1..voters) form the initial membership; the rest start outside it
    /// (no voters configured) and take part only once a leader adds them. All of them by default.</param>
    public RaftSimCluster(SimulatorOptions options, int size, Func<RaftConfig, RaftConfig>? configure = null, int? voters = null)
    {
        if (size < 1 || size > RaftConfig.VotersMax) throw new ArgumentOutOfRangeException(nameof(size));
        if (voters is < 1 || voters > size) throw new ArgumentOutOfRangeException(nameof(voters));
        _configure = configure;
        Ids = Enumerable.Range(1, size).Select(i => new NodeId(i)).ToImmutableArray();
        InitialVoters = Ids[..(voters ?? size)];
        Sim = new Simulator<object>(options);
        Checker = new RaftInvariantChecker(InitialVoters);
        Sim.AddNodes(Ids, (id, storage) => new RaftSimNode(id, storage, this));
        _persistedLogs = Ids.Select(id => RaftSimNode.PersistedLog(Sim.Storage(id))).ToArray();
        _views = new RaftNodeView[size];
        Sim.Invariants.Add("raft safety", () =>
        {
            for (var i = 0; i < _views.Length; i++)
            {
                var snapshot = RaftSimNode.PersistedSnapshot(Sim.Storage(Ids[i]))?.Meta;
                _views[i] = new RaftNodeView(Ids[i], Raft(Ids[i]), _persistedLogs[i], snapshot?.Index ?? 0, snapshot?.Term ?? 0);
            }
            return Checker.Check(_views)?.ToString();
        });
    }

    public RaftSimCluster(long seed, int size, Func<RaftConfig, RaftConfig>? configure = null, int? voters = null)
        : this(new SimulatorOptions { Seed = seed }, size, configure, voters) { }

    public Simulator<object> Sim { get; }
    public RaftInvariantChecker Checker { get; }
    public ImmutableArray<NodeId> Ids { get; }
    public long Seed => Sim.Seed;

    /// <summary>
    /// Test-only defect: hosts send acknowledgements before their write is durable (it lands one Ready later and is lost
    /// on a crash). Used to show the invariants catch a host that breaks persist-before-send.
    /// </summary>
    public bool BreakPersistBeforeSend { get; init; }

    /// <summary>
    /// Per-node clock rate (Raft ticks per simulator tick), 1 by default. Rates other than 1 model clock drift, which
    /// lease reads must tolerate up to <see cref="RaftConfig.LeaseClockDriftTicks"/>.
    /// </summary>
    public Dictionary<NodeId, double> ClockRates { get; } = [];

    public double ClockRate(NodeId id) => ClockRates.GetValueOrDefault(id, 1.0);

    /// <summary>The membership the cluster starts with (the other nodes wait outside it until added).</summary>
    public ImmutableArray<NodeId> InitialVoters { get; }

    /// <summary>
    /// Hosts snapshot their state machine and compact their log once it holds more than this many entries (0: never).
    /// The log a node holds is then at most this many entries plus those not yet applied.
    /// </summary>
    public int SnapshotEntries { get; init; }

    /// <summary>Snapshots a node's host took of its own state machine, over all its incarnations.</summary>
    public int SnapshotsTaken(NodeId id) => _snapshotsTaken.GetValueOrDefault(id);

    /// <summary>Snapshots a node installed from a leader, over all its incarnations.</summary>
    public int SnapshotsInstalled(NodeId id) => _snapshotsInstalled.GetValueOrDefault(id);

    /// <summary>Log entries on a node's disk after its snapshot (also while it is down).</summary>
    public int PersistedEntryCount(NodeId id) => RaftSimNode.PersistedLog(Sim.Storage(id)).Count;

    /// <summary>The snapshot on a node's disk (also while it is down).</summary>
    public RaftSnapshot? PersistedSnapshot(NodeId id) => RaftSimNode.PersistedSnapshot(Sim.Storage(id));

    internal void OnSnapshot(NodeId id, RaftSnapshot snapshot, bool installed)
    {
        var counts = installed ? _snapshotsInstalled : _snapshotsTaken;
        counts[id] = counts.GetValueOrDefault(id) + 1;
        Checker.OnSnapshot(id, snapshot.Meta, snapshot.Data, installed);
    }

    /// <summary>Every reply any node gave a client, in order.</summary>
    public List<RaftClientReply> Replies { get; } = [];

    /// <summary>Called with each reply as it happens (client drivers hook in here).</summary>
    public Action<RaftClientReply>? ReplyListener { get; set; }

    /// <summary>Raft settings for the simulation: the simulator's 10 ms ticks, so elections time out after 100-200 ms.</summary>
    public RaftConfig ConfigFor(NodeId id)
    {
        // A small compaction margin, so that runs catch followers up both by appends after a snapshot and by InstallSnapshot.
        var config = new RaftConfig
        {
            Id = id, Voters = InitialVoters.Contains(id) ? InitialVoters : [], ElectionTicks = 10, HeartbeatTicks = 2, TickMs = Sim.Options.TickIntervalMs,
            CompactionMarginEntries = 5, SnapshotChunksInflightMax = 3,
        };
        return _configure is null ? config : _configure(config);
    }

    internal void Reply(RaftClientReply reply)
    {
        Replies.Add(reply);
        ReplyListener?.Invoke(reply);
    }

    public RaftSimNode? Node(NodeId id) => Sim.Node<RaftSimNode>(id);
    public RaftNode? Raft(NodeId id) => Node(id)?.Raft;
    public RaftNode? Raft(int id) => Raft(new NodeId(id));

    public IEnumerable<RaftNode> Live => Ids.Select(Raft).OfType<RaftNode>();

    /// <summary>The live leader with the highest term among <paramref name="among"/> (all nodes by default), if any.</summary>
    public NodeId? Leader(IEnumerable<NodeId>? among = null) =>
        (among ?? Ids).Select(Raft).OfType<RaftNode>().Where(n => n.Role == RaftRole.Leader).MaxBy(n => n.Term)?.Id;

    /// <summary>Runs until a leader exists among <paramref name="among"/> that a majority of its voters follows in its term.</summary>
    public NodeId? RunUntilLeader(long maxMs, IEnumerable<NodeId>? among = null)
    {
        var group = (among ?? Ids).ToArray();
        NodeId? found = null;
        Sim.RunUntil(() =>
        {
            found = null;
            if (Leader(group) is not { } leader) return false;
            var raft = Raft(leader)!;
            var voters = raft.Membership.Voters;
            var followers = voters.Count(v => Raft(v) is { } n && n.Term == raft.Term && n.LeaderId == leader);
            if (followers < voters.Length / 2 + 1) return false;
            found = leader;
            return true;
        }, maxMs);
        return found;
    }

    /// <summary>Makes <paramref name="id"/> start an election now and runs until it leads (or maxMs pass).</summary>
    public bool ElectNow(NodeId id, long maxMs = 2_000)
    {
        Sim.Invoke<RaftSimNode>(id, (node, ctx) => node.Campaign(ctx));
        return Sim.RunUntil(() => Raft(id) is { Role: RaftRole.Leader }, maxMs);
    }

    public void Crash(NodeId id) => Sim.Crash(id);
    public void Restart(NodeId id) => Sim.Restart(id);

    public long NextRequestId() => ++_nextRequestId;

    long IKvSimCluster.NowMs => Sim.NowMs;
    IReadOnlyList<NodeId> IKvSimCluster.NodeIds => Ids;
    bool IKvSimCluster.IsServing(NodeId id) => Raft(id) is not null;
    void IKvSimCluster.Submit(NodeId node, object request) => Sim.Inject(node, request);
    void IKvSimCluster.Schedule(long atMs, Action action, string label) => Sim.Schedule(atMs, action, label);
    DeterministicRandom IKvSimCluster.ForkRandom() => Sim.ForkRandom();

    /// <summary>A nonce for a <see cref="KvRegister"/>: what the answer to it is recognised by.</summary>
    public long NextNonce() => ++_nextNonce;

    /// <summary>The client id a committed registration with <paramref name="nonce"/> gave (its index), or null.</summary>
    public long? RegisteredClient(long nonce)
    {
        for (; _registrationsScanned < Checker.Committed.Count; _registrationsScanned++)
        {
            var entry = Checker.Committed[_registrationsScanned];
            if (entry.Type == EntryType.Normal && KvCodec.Decode(entry.Data) is KvRegister r) _registrations.TryAdd(r.Nonce, entry.Index);
        }
        return _registrations.TryGetValue(nonce, out var index) ? index : null;
    }

    /// <summary>
    /// Registers <paramref name="count"/> key-value clients through the current leader, resubmitting until each
    /// registration is committed (a duplicate only registers an unused client); returns their ids.
    /// </summary>
    public IReadOnlyList<long> RegisterClients(int count, long maxMs = 10_000)
    {
        var nonces = Enumerable.Range(0, count).Select(_ => NextNonce()).ToArray();
        var deadline = Sim.NowMs + maxMs;
        bool Done() => nonces.All(n => RegisteredClient(n) is not null);
        while (!Done())
        {
            if (Sim.NowMs >= deadline)
                throw new InvalidOperationException($"seed={Seed}: {count} client registrations not committed within {maxMs} ms; {Describe()}");
            if (Leader() is { } leader)
            {
                foreach (var n in nonces.Where(n => RegisteredClient(n) is null))
                    Sim.Inject(leader, new RaftClientCommand(NextRequestId(), new KvRegister(n)));
                Sim.RunUntil(Done, Math.Min(1_000, deadline - Sim.NowMs));
            }
            else Sim.RunFor(50);
        }
        return nonces.Select(n => RegisteredClient(n)!.Value).ToArray();
    }

    /// <summary>
    /// Registers <paramref name="count"/> clients now and keeps them for <see cref="NewClient"/> and <see cref="NewPut"/>:
    /// a scenario that will cut the leader off calls it first, so the puts it makes then need no commit.
    /// </summary>
    public void RegisterClientsAhead(int count)
    {
        foreach (var id in RegisterClients(count)) _clientPool.Enqueue(id);
    }

    /// <summary>A registered client with no command yet: one kept by <see cref="RegisterClientsAhead"/>, else a new registration.</summary>
    public long NewClient()
    {
        return _clientPool.Count > 0 ? _clientPool.Dequeue() : RegisterClients(1)[0];
    }

    /// <summary>A put from a fresh client session (sequence 1), so its effect is identified by client id.</summary>
    public KvPut NewPut(string key, string value) => new(NewClient(), 1, key, value);

    /// <summary>Live nodes whose state machine has applied the command (found through its client session).</summary>
    public int AppliedCount(KvCommand command) =>
        Ids.Select(Node).Count(n => n?.Raft is not null && n.Kv.SessionSequence(command.ClientId) >= command.Sequence);

    /// <summary>
    /// Like the 6.5840 lab's one(): keeps submitting the command to the current leader until at least
    /// <paramref name="servers"/> live nodes applied it or <paramref name="maxMs"/> pass. Retries are safe: the session
    /// makes a duplicate a no-op.
    /// </summary>
    public bool TryCommit(KvCommand command, int servers, long maxMs = 10_000)
    {
        var deadline = Sim.NowMs + maxMs;
        while (Sim.NowMs < deadline)
        {
            if (AppliedCount(command) >= servers) return true;
            if (Leader() is { } leader)
            {
                Sim.Inject(leader, new RaftClientCommand(NextRequestId(), command));
                if (Sim.RunUntil(() => AppliedCount(command) >= servers, Math.Min(1_000, deadline - Sim.NowMs))) return true;
            }
            else Sim.RunFor(50);
        }
        return AppliedCount(command) >= servers;
    }

    /// <summary>Commits the command on all <paramref name="servers"/> or throws with the seed.</summary>
    public void Commit(KvCommand command, int servers, long maxMs = 10_000)
    {
        if (!TryCommit(command, servers, maxMs))
            throw new InvalidOperationException($"seed={Seed}: {command} not applied on {servers} nodes within {maxMs} ms (applied on {AppliedCount(command)}); {Describe()}");
    }

    /// <summary>Whether the committed membership already shows <paramref name="change"/> (a removed node gone, an added one present).</summary>
    public bool IsCommitted(ConfChange change)
    {
        var m = Checker.CommittedMembership;
        return change.Type switch
        {
            ConfChangeType.AddLearner => m.Contains(change.Node),
            ConfChangeType.PromoteLearner => m.IsVoter(change.Node),
            _ => !m.Contains(change.Node),
        };
    }

    /// <summary>
    /// Proposes <paramref name="change"/> at whichever node leads, again after a lost leadership or a refusal (a leader
    /// takes one change at a time, once it has committed an entry of its term), until the change is committed or
    /// <paramref name="maxMs"/> pass.
    /// </summary>
    public bool TryChangeMembership(ConfChange change, long maxMs = 10_000)
    {
        ArgumentNullException.ThrowIfNull(change);
        var deadline = Sim.NowMs + maxMs;
        while (Sim.NowMs < deadline)
        {
            if (IsCommitted(change)) return true;
            ProposeResult? result = null;
            if (Leader() is { } leader) Sim.Invoke<RaftSimNode>(leader, (node, ctx) => result = node.ProposeConfChange(change, ctx));
            if (result is { Status: ProposeStatus.Appended })
            {
                if (Sim.RunUntil(() => IsCommitted(change), Math.Min(1_000, deadline - Sim.NowMs))) return true;
            }
            else Sim.RunFor(Math.Min(20, deadline - Sim.NowMs));
        }
        return IsCommitted(change);
    }

    /// <summary>Commits the membership change or throws with the seed.</summary>
    public void ChangeMembership(ConfChange change, long maxMs = 10_000)
    {
        if (!TryChangeMembership(change, maxMs))
            throw new InvalidOperationException($"seed={Seed}: {change} not committed within {maxMs} ms (committed membership {Checker.CommittedMembership}); {Describe()}");
    }

    /// <summary>
    /// Adds <paramref name="id"/> as a voter: first as a learner, then promoted (by the leader itself once the learner
    /// caught up when AutoPromoteLearners is on, else by proposing the promotion). Throws with the seed on timeout.
    /// </summary>
    public void AddVoter(NodeId id, long maxMs = 10_000)
    {
        var deadline = Sim.NowMs + maxMs;
        ChangeMembership(new ConfChange(ConfChangeType.AddLearner, id), maxMs);
        var promote = new ConfChange(ConfChangeType.PromoteLearner, id);
        var promoted = ConfigFor(id).AutoPromoteLearners
            ? Sim.RunUntil(() => IsCommitted(promote), Math.Max(0, deadline - Sim.NowMs))
            : TryChangeMembership(promote, Math.Max(0, deadline - Sim.NowMs));
        if (!promoted)
            throw new InvalidOperationException($"seed={Seed}: learner {id} not promoted within {maxMs} ms (committed membership {Checker.CommittedMembership}); {Describe()}");
    }

    /// <summary>
    /// Asks the current leader to hand leadership to <paramref name="target"/>, again if the attempt lapses, until the
    /// target leads or <paramref name="maxMs"/> pass.
    /// </summary>
    public bool TryTransferLeadership(NodeId target, long maxMs = 5_000)
    {
        var deadline = Sim.NowMs + maxMs;
        while (Sim.NowMs < deadline)
        {
            if (Leader() == target) return true;
            var started = false;
            if (Leader() is { } leader) Sim.Invoke<RaftSimNode>(leader, (node, ctx) => started = node.TransferLeadership(target, ctx));
            if (started)
            {
                if (Sim.RunUntil(() => Leader() == target, Math.Min(1_000, deadline - Sim.NowMs))) return true;
            }
            else Sim.RunFor(Math.Min(20, deadline - Sim.NowMs));
        }
        return Leader() == target;
    }

    /// <summary>The committed commands in log order, decoded.</summary>
    public IReadOnlyList<KvCommand> CommittedCommands() =>
        Checker.Committed.Where(e => e.Type == EntryType.Normal).Select(e => KvCodec.Decode(e.Data)).OfType<KvCommand>().ToList();

    public string Describe() => string.Join("; ", Ids.Select(id => Raft(id)?.ToString() ?? $"raft {id} down"));
}
