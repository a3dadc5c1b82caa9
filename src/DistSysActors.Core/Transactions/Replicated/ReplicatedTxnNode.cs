using System.Collections.Immutable;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;
using static DistSysActors.Core.Transactions.Replicated.ReplTxn;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions.Replicated;

/// <summary>
/// One node of replicated mode: a replica of every group (the coordinating group and each shard), each a Raft node
/// whose log replicates its role's durable records. "Durable before it is sent" becomes "committed in the group's log
/// before it is sent", so a role survives the loss of any minority of nodes: the group elects a new leader, which
/// rebuilds the role from the committed records and finishes what it left open, without waiting for any restart.
/// Raft's writes of every group go to this node's one journal (<see cref="GroupRaftWrite"/>), from which it is rebuilt.
/// </summary>
public sealed partial class ReplicatedTxnNode : IProtocolCore<ReplTxnMessage, ProtocolReady<ReplTxnMessage>>
{
    private readonly ReadyBuffer<ReplTxnMessage> _ready = new();
    private readonly SortedDictionary<NodeId, TxnGroupReplica> _replicas = [];
    private readonly ITxnRecordCodec _codec;
    private readonly TxnConfig _config;
    private readonly List<(TxnGroupReplica Replica, Ready Ready)> _raftTaken = [];
    private long _nowMs;

    public ReplicatedTxnNode(NodeId self, IReadOnlyCollection<NodeId> nodes, int shards, ITxnRecordCodec codec, long seed,
        TxnConfig? config = null, Func<NodeId, RaftConfig>? raftConfig = null, IEnumerable<object>? journal = null)
    {
        Self = self;
        Nodes = [.. nodes.Order()];
        Groups = new TxnGroups(shards);
        _codec = codec;
        _config = config ?? new TxnConfig();
        var persisted = ReplayJournal(journal ?? []);
        foreach (var group in Groups.All)
        {
            var rc = (raftConfig?.Invoke(group) ?? new RaftConfig { Id = self, Voters = Nodes }) with { Id = self, Voters = Nodes };
            var random = new DeterministicRandom(unchecked(seed * 7919 + self.Value * 131 + group.Value));
            var raft = new RaftNode(rc, random, persisted.GetValueOrDefault(group));
            var role = group == TxnGroups.Coordinator ? Role.Coordinator : Role.Participant;
            _replicas[group] = new TxnGroupReplica(group, role, raft, Groups, _config);
        }
    }

    public NodeId Self { get; }
    public ImmutableArray<NodeId> Nodes { get; }
    public TxnGroups Groups { get; }

    /// <summary>Raft's persistent state per group, folded from this node's journal of <see cref="GroupRaftWrite"/>s.</summary>
    private static Dictionary<NodeId, RaftPersistentState> ReplayJournal(IEnumerable<object> journal)
    {
        var hard = new Dictionary<NodeId, HardState>();
        var logs = new Dictionary<NodeId, List<LogEntry>>();
        foreach (var record in journal)
        {
            if (record is not GroupRaftWrite { Group: var g, Write: var w }) continue;
            if (w.Snapshot is not null) throw new InvalidOperationException("replicated transactions take no Raft snapshots");
            if (w.HardState is { } hs) hard[g] = hs;
            if (w.Entries.IsEmpty) continue;
            if (!logs.TryGetValue(g, out var log)) logs[g] = log = [];
            var first = w.Entries[0].Index;
            log.RemoveAll(e => e.Index >= first);
            log.AddRange(w.Entries);
        }
        return hard.Keys.Concat(logs.Keys).Distinct().ToDictionary(g => g, g => new RaftPersistentState(
            hard.GetValueOrDefault(g) ?? HardState.Empty, logs.TryGetValue(g, out var l) ? [.. l] : []));
    }

    // ---- inputs ----

    public void Step(ReplTxnMessage message, long nowMs)
    {
        _nowMs = Math.Max(_nowMs, nowMs);
        switch (message)
        {
            case RaftEnvelope e when _replicas.TryGetValue(e.Group, out var r):
                r.Raft.Step(e.Message, _nowMs);
                break;
            case TxnEnvelope e when _replicas.TryGetValue(e.ToGroup, out var r):
                Deliver(r, e);
                break;
            case ClientBegin c:
                BeginAtLeader(c);
                break;
            case ClientReply c:
                _ready.Answer(c.Answer);
                break;
        }
        SyncLeadership();
    }

    public void Tick(long nowMs)
    {
        _nowMs = Math.Max(_nowMs, nowMs);
        foreach (var r in _replicas.Values)
        {
            r.Raft.Tick(_nowMs);
            r.Active?.Tick(_nowMs);
        }
        SyncLeadership();
    }

    private void Deliver(TxnGroupReplica r, TxnEnvelope e)
    {
        if (r.Active is { } active) { active.Step(e.Message, _nowMs); return; }
        // Not acting for that group: hand it to the leader once; the sender's retries cover a leaderless moment.
        if (e.Hops == 0 && r.Raft.LeaderId is { } leader && leader != Self) _ready.Send(leader, e with { From = Self, Hops = 1 });
    }

    private void SyncLeadership()
    {
        foreach (var r in _replicas.Values)
            if (r.SyncLeadership(_config, Groups) && r.Role == Role.Coordinator)
            {
                // Requests taken in an earlier term are lost with that term's role: their nodes answer "unknown".
                _clients.Clear();
                _beginsWaiting.Clear();
            }
    }

    // ---- the Ready: the acting roles' effects (gated on their group's commit), then each group's Raft Ready ----

    /// <summary>Nothing is handed out while a Ready is outstanding (its Raft Readies are applied and advanced with it).</summary>
    public bool HasReady => _raftTaken.Count == 0 && (_ready.HasReady || _replicas.Values.Any(r => r.Raft.HasReady || r.ActiveHasReady));

    public ProtocolReady<ReplTxnMessage> TakeReady()
    {
        if (_raftTaken.Count > 0) throw new InvalidOperationException("a Ready is outstanding: call Advance first");
        foreach (var r in _replicas.Values)
        {
            if (!r.ActiveHasReady) continue;
            var ready = r.Active!.TakeReady();
            foreach (var m in ready.MessagesBeforePersist) Route(m.To, m.Message);
            if (ready.Writes.Count == 0) { Release(r, ready); continue; }
            var proposed = r.Raft.Propose(_codec.Encode(ready.Writes), _nowMs);
            if (proposed.Status != ProposeStatus.Appended) { r.Deactivate(rebuild: true); continue; } // as if the role crashed
            r.Gated = ready;
            r.GatedIndex = proposed.Index;
        }
        foreach (var r in _replicas.Values)
        {
            if (!r.Raft.HasReady) continue;
            var ready = r.Raft.TakeReady();
            _raftTaken.Add((r, ready));
            foreach (var m in ready.MessagesBeforePersist) _ready.SendBeforePersist(m.To, new RaftEnvelope(Self, r.Group, m));
            if (ready.MustSync) _ready.Persist(new GroupRaftWrite(r.Group, new RaftWrite(ready.Snapshot, ready.HardState, ready.Entries)));
            foreach (var m in ready.Messages) _ready.Send(m.To, new RaftEnvelope(Self, r.Group, m));
        }
        return _ready.Take();
    }

    /// <summary>The node's writes are durable: apply each group's committed entries, release the role Readies they cover, advance Raft.</summary>
    public void Advance(ProtocolReady<ReplTxnMessage> ready)
    {
        _ready.Advance(ready);
        foreach (var (r, raftReady) in _raftTaken)
        {
            foreach (var entry in raftReady.CommittedEntries) r.Apply(entry, _codec);
            TakeReads(r, raftReady);
            r.Raft.Advance(raftReady);
            if (r.Gated is { } gated && r.AppliedIndex >= r.GatedIndex)
            {
                r.Gated = null;
                Release(r, gated);
            }
        }
        _raftTaken.Clear();
        SyncLeadership();
        if (_readsApplying.Count > 0) ServeAppliedReads();
    }

    /// <summary>A role Ready whose writes are committed in its group's log (or that has none): its messages and answers leave.</summary>
    private void Release(TxnGroupReplica r, ProtocolReady<TxnMessage> ready)
    {
        foreach (var m in ready.MessagesAfterPersist) Route(m.To, m.Message);
        foreach (var answer in ready.Answers) AnswerClient(answer);
        if (r.Role == Role.Coordinator)
            foreach (var begin in ready.Writes.OfType<BeginRecord>()) AnnounceBegin(begin);
        r.Active?.Advance(ready);
    }

    /// <summary>Sends a role's message to the node leading the group it names (this node included); dropped while that group has no known leader.</summary>
    private void Route(NodeId toGroup, TxnMessage message)
    {
        if (_replicas.TryGetValue(toGroup, out var target) && target.Raft.LeaderId is { } leader)
            _ready.Send(leader, new TxnEnvelope(Self, toGroup, message, 0));
    }

    public IReadOnlyList<string> CheckInvariants()
    {
        var problems = new List<string>();
        foreach (var r in _replicas.Values)
        {
            problems.AddRange(r.Raft.CheckInvariants().Select(p => $"{TxnGroups.Name(r.Group)} raft: {p}"));
            if (r.Active is { } a) problems.AddRange(a.CheckInvariants().Select(p => $"{TxnGroups.Name(r.Group)}: {p}"));
            problems.AddRange(r.Shadow.CheckInvariants().Select(p => $"{TxnGroups.Name(r.Group)} (replica): {p}"));
        }
        return problems;
    }
}
