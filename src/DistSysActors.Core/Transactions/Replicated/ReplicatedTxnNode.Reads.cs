using DistSysActors.Core.Raft;
using static DistSysActors.Core.Transactions.Replicated.ReplTxn;

namespace DistSysActors.Core.Transactions.Replicated;

/// <summary>
/// Linearizable key reads: the node acting for the key's shard answers only after its leadership was confirmed by a
/// heartbeat round that began after the read arrived (Raft's ReadIndex, dissertation 6.4) and its replica applied the
/// shard's log up to the commit index of that moment. A leader deposed by a partition it has not noticed yet cannot
/// confirm, so it never answers with a value the majority's new leader has already overwritten.
/// </summary>
public sealed partial class ReplicatedTxnNode
{
    // Read id (the Raft read's request id) -> the read, until Raft confirms or drops it; then until the replica applied its index.
    private readonly Dictionary<long, PendingKeyRead> _reads = [];
    private readonly List<(TxnGroupReplica Replica, long Index, PendingKeyRead Read)> _readsApplying = [];
    private long _lastReadId;

    /// <summary>Reads waiting for confirmation or apply at once; beyond it a read is refused as unavailable.</summary>
    public const int KeyReadsWaitingMax = 10_000;

    private sealed record PendingKeyRead(long RequestId, NodeId Group, string Key);

    /// <summary>
    /// Reads <paramref name="key"/>'s committed value linearizably; answered with a <see cref="KeyRead"/> carrying
    /// <paramref name="requestId"/>: served by this node when it acts for the key's shard, else not served, naming the
    /// shard's leader as this node knows it.
    /// </summary>
    public void ReadKey(long requestId, string key, long? nowMs = null)
    {
        if (nowMs is { } now) _nowMs = Math.Max(_nowMs, now);
        var shard = Groups.Partitioner.OwnerOf(key);
        var replica = _replicas[shard];
        if (replica.Active is null || _reads.Count + _readsApplying.Count >= KeyReadsWaitingMax)
        {
            _ready.Answer(NotServed(requestId, key, replica));
            return;
        }
        var readId = ++_lastReadId;
        _reads[readId] = new PendingKeyRead(requestId, shard, key);
        replica.Raft.ReadIndex(readId, ReadMode.ReadIndex, _nowMs);
    }

    private static KeyRead NotServed(long requestId, string key, TxnGroupReplica replica) =>
        new(requestId, key, null, Served: false, replica.Raft.LeaderId);

    /// <summary>Takes the reads one group's Raft Ready confirmed or dropped (after its committed entries were applied).</summary>
    private void TakeReads(TxnGroupReplica replica, Ready ready)
    {
        foreach (var state in ready.ReadStates)
            if (_reads.Remove(state.RequestId, out var read)) _readsApplying.Add((replica, state.Index, read));
        foreach (var dropped in ready.ReadsDropped)
            if (_reads.Remove(dropped, out var read)) _ready.Answer(NotServed(read.RequestId, read.Key, replica));
    }

    /// <summary>Answers the confirmed reads whose replica has applied their index, while it still acts for the shard.</summary>
    private void ServeAppliedReads()
    {
        _readsApplying.RemoveAll(waiting =>
        {
            var (replica, index, read) = waiting;
            if (replica.Active is null) { _ready.Answer(NotServed(read.RequestId, read.Key, replica)); return true; }
            if (replica.AppliedIndex < index) return false;
            _ready.Answer(new KeyRead(read.RequestId, read.Key, replica.Active.Participant!.Read(read.Key), Served: true, Self));
            return true;
        });
    }
}
