using System.Collections.Immutable;
using static DistSysActors.Core.Transactions.Replicated.ReplTxn;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions.Replicated;

/// <summary>
/// Clients and queries. Any node takes a transaction and hands it to the coordinating group's leader, which answers the
/// node that took it: <see cref="BeginDurable"/> once BEGIN is committed in the group's log, then the <see cref="Outcome"/>.
/// An Idempotency-Key travels inside BEGIN, so a retry on any node, under any later leader, finds the transaction.
/// </summary>
public sealed partial class ReplicatedTxnNode
{
    // At the coordinating group's leader: its own request id -> the node that took the client's request and that node's id.
    private readonly Dictionary<long, (NodeId Origin, long RequestId)> _clients = [];
    private readonly Dictionary<TxnId, long> _beginsWaiting = [];
    private long _lastLeaderRequest;
    private const int ClientsWaitingMax = 100_000;

    /// <summary>
    /// Takes a client's transaction (ops passed <see cref="TxnOps.Validate"/>); its answers come as <see cref="ReplAnswer"/>s
    /// with <paramref name="requestId"/>. A node that hears nothing (leader lost) tells its client the outcome is unknown.
    /// </summary>
    public void Begin(long requestId, TxnProtocol protocol, IReadOnlyList<TxnOp> ops, string? idempotencyKey = null, string? fingerprint = null, long? nowMs = null)
    {
        if (nowMs is { } now) _nowMs = Math.Max(_nowMs, now);
        BeginAtLeader(new ClientBegin(Self, requestId, protocol, [.. ops], idempotencyKey, fingerprint, 0));
    }

    private void BeginAtLeader(ClientBegin c)
    {
        var coordinator = _replicas[TxnGroups.Coordinator];
        if (coordinator.Active is not { } active)
        {
            if (c.Hops < 2 && coordinator.Raft.LeaderId is { } leader && leader != Self) _ready.Send(leader, c with { Hops = c.Hops + 1 });
            else Reply(c.From, new Refused(c.RequestId, "the coordinating group has no leader ready", Unavailable: true));
            return;
        }
        if (_clients.Count >= ClientsWaitingMax) { Reply(c.From, new Refused(c.RequestId, "too many transactions waiting", Unavailable: true)); return; }
        var local = ++_lastLeaderRequest;
        _clients[local] = (c.From, c.RequestId);
        switch (active.Coordinator!.Begin(local, c.Protocol, c.Ops, _nowMs, c.IdempotencyKey, c.Fingerprint))
        {
            case KeyConflict k:
                _clients.Remove(local);
                Reply(c.From, new Refused(c.RequestId, k.Reason, Unavailable: false));
                break;
            case Started s:
                _beginsWaiting[s.Id] = local;
                break;
            case FoundByKey f:
                if (_clients.ContainsKey(local)) Reply(c.From, new BeginDurable(c.RequestId, f.Id));
                break;
        }
    }

    /// <summary>BEGIN is committed: the transaction's id is now its own for good, so the client may be told it.</summary>
    private void AnnounceBegin(BeginRecord begin)
    {
        if (_beginsWaiting.Remove(begin.Id, out var local) && _clients.TryGetValue(local, out var client))
            Reply(client.Origin, new BeginDurable(client.RequestId, begin.Id));
    }

    private void AnswerClient(object answer)
    {
        if (answer is not TxnAnswer a || !_clients.Remove(a.RequestId, out var client)) return;
        Reply(client.Origin, new Outcome(client.RequestId, a with { RequestId = client.RequestId }));
    }

    private void Reply(NodeId origin, ReplAnswer answer)
    {
        if (origin == Self) _ready.Answer(answer);
        else _ready.Send(origin, new ClientReply(Self, answer));
    }

    // ---- queries, answered from this node's replicas (the leader's acting role, or a follower's committed records) ----

    /// <summary>The transaction as the coordinating group knows it here, or null.</summary>
    public TxnView? Describe(TxnId id) => _replicas[TxnGroups.Coordinator].Reader.Coordinator!.Describe(id);

    /// <summary>The committed value of <paramref name="key"/> in this node's replica of its shard.</summary>
    public string? Read(string key) => Participant(Groups.Partitioner.OwnerOf(key)).Read(key);

    public TxnParticipant Participant(NodeId shard) => _replicas[shard].Reader.Participant!;

    public TxnCoordinator Coordinator => _replicas[TxnGroups.Coordinator].Reader.Coordinator!;

    /// <summary>Whether this node acts for <paramref name="group"/> (leads it and has caught up with its log).</summary>
    public bool Acts(NodeId group) => _replicas[group].Active is not null;

    /// <summary>Nothing of <paramref name="group"/> waits here: no role Ready waits for its commit, every entry in the log applied.</summary>
    public bool Idle(NodeId group) => _replicas[group] is var r && r.Gated is null && r.Raft.LastLogIndex == r.AppliedIndex;

    public NodeId? LeaderOf(NodeId group) => _replicas[group].Raft.LeaderId;

    public IReadOnlyList<object> CommittedRecords(NodeId group) => _replicas[group].Records;

    public long AppliedIndex(NodeId group) => _replicas[group].AppliedIndex;

    /// <summary>Each group as this node sees it; in-doubt transactions from the acting role (with their age) or the replica.</summary>
    public ImmutableArray<GroupStatus> Status() =>
    [
        .. _replicas.Values.Select(r => new GroupStatus(r.Group, TxnGroups.Name(r.Group), r.Raft.LeaderId, r.Raft.Term, r.AppliedIndex, r.Active is not null,
            r.Reader.Participant?.InDoubtTransactions(_nowMs) ?? [])),
    ];
}
