using DistSysActors.Core.Raft;
using static DistSysActors.Core.Transactions.Replicated.ReplTxn;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions.Replicated;

/// <summary>
/// Linearizable reads (a key's value, a transaction's view): the node acting for the group that holds the answer (the
/// key's shard, the coordinating group) answers only after its leadership was confirmed by a heartbeat round that began
/// after the read arrived (Raft's ReadIndex, dissertation 6.4) and its replica applied the group's log up to the commit
/// index of that moment. A leader deposed by a partition it has not noticed yet cannot confirm, so it never answers
/// with state the majority's new leader has already moved past.
/// </summary>
public sealed partial class ReplicatedTxnNode
{
    // Read id (the Raft read's request id) -> the read, until Raft confirms or drops it; then until the replica applied its index.
    private readonly Dictionary<long, PendingRead> _reads = [];
    private readonly List<(TxnGroupReplica Replica, long Index, PendingRead Read)> _readsApplying = [];
    private long _lastReadId;

    /// <summary>Reads waiting for confirmation or apply at once; beyond it a read is answered at once, not served.</summary>
    public const int ReadsWaitingMax = 10_000;

    /// <summary>A read: what it answers from the acting role once confirmed, and what it answers when not served.</summary>
    private sealed record PendingRead(Func<TxnRoleCore, ReplAnswer> Serve, Func<NodeId?, ReplAnswer> NotServed);

    /// <summary>
    /// Reads <paramref name="key"/>'s committed value linearizably; answered with a <see cref="KeyRead"/> carrying
    /// <paramref name="requestId"/>: served by this node when it acts for the key's shard, else not served, naming the
    /// shard's leader as this node knows it.
    /// </summary>
    public void ReadKey(long requestId, string key, long? nowMs = null) =>
        StartRead(Groups.Partitioner.OwnerOf(key), nowMs, new PendingRead(
            role => new KeyRead(requestId, key, role.Participant!.Read(key), Served: true, Self),
            leader => new KeyRead(requestId, key, null, Served: false, leader)));

    /// <summary>
    /// Reads transaction <paramref name="id"/> as the coordinating group knows it, linearizably; answered with a
    /// <see cref="ViewRead"/> carrying <paramref name="requestId"/>, served or not as <see cref="ReadKey"/>.
    /// </summary>
    public void ReadView(long requestId, TxnId id, long? nowMs = null) =>
        StartRead(TxnGroups.Coordinator, nowMs, new PendingRead(
            role => new ViewRead(requestId, id, role.Coordinator!.Describe(id), Served: true, Self),
            leader => new ViewRead(requestId, id, null, Served: false, leader)));

    private void StartRead(NodeId group, long? nowMs, PendingRead read)
    {
        if (nowMs is { } now) _nowMs = Math.Max(_nowMs, now);
        var replica = _replicas[group];
        if (replica.Active is null || _reads.Count + _readsApplying.Count >= ReadsWaitingMax)
        {
            _ready.Answer(read.NotServed(replica.Raft.LeaderId));
            return;
        }
        var readId = ++_lastReadId;
        _reads[readId] = read;
        replica.Raft.ReadIndex(readId, ReadMode.ReadIndex, _nowMs);
    }

    /// <summary>Takes the reads one group's Raft Ready confirmed or dropped (after its committed entries were applied).</summary>
    private void TakeReads(TxnGroupReplica replica, Ready ready)
    {
        foreach (var state in ready.ReadStates)
            if (_reads.Remove(state.RequestId, out var read)) _readsApplying.Add((replica, state.Index, read));
        foreach (var dropped in ready.ReadsDropped)
            if (_reads.Remove(dropped, out var read)) _ready.Answer(read.NotServed(replica.Raft.LeaderId));
    }

    /// <summary>Answers the confirmed reads whose replica has applied their index, while it still acts for the group.</summary>
    private void ServeAppliedReads()
    {
        _readsApplying.RemoveAll(waiting =>
        {
            var (replica, index, read) = waiting;
            if (replica.Active is not { } acting) { _ready.Answer(read.NotServed(replica.Raft.LeaderId)); return true; }
            if (replica.AppliedIndex < index) return false;
            _ready.Answer(read.Serve(acting));
            return true;
        });
    }
}
