using DistSysActors.Core.Protocol;
using DistSysActors.Core.Raft;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Transactions.Replicated;

/// <summary>
/// One node's replica of one group: its Raft node, the group's committed records (the role's journal, replicated), a
/// <see cref="Shadow"/> role rebuilt from them for queries, and, while this replica leads, the <see cref="Active"/> role.
/// The active role is exactly the classic role recovered from the group's log: a new leader re-derives its duties as a
/// restarted classic node would (resend COMMIT, ask about PREPARED, abort the undecided, resume sagas); each Ready of it
/// that writes waits until those writes are committed in the group's log before its messages and answers leave.
/// </summary>
internal sealed class TxnGroupReplica(NodeId group, Role role, RaftNode raft, TxnGroups groups, TxnConfig config)
{
    private readonly List<object> _records = [];

    public NodeId Group { get; } = group;
    public Role Role { get; } = role;
    public RaftNode Raft { get; } = raft;

    /// <summary>The role rebuilt from every committed record (never stepped nor ticked): answers queries on a follower.</summary>
    public TxnRoleCore Shadow { get; } = new(role, group, groups.Shards, config);

    /// <summary>The acting role while this replica leads and has applied everything its term started with.</summary>
    public TxnRoleCore? Active { get; private set; }

    /// <summary>A Ready of <see cref="Active"/> whose writes wait for the group's commit at <see cref="GatedIndex"/>.</summary>
    public ProtocolReady<TxnMessage>? Gated { get; set; }
    public long GatedIndex { get; set; }

    /// <summary>The last log index applied to the records.</summary>
    public long AppliedIndex { get; private set; }

    public IReadOnlyList<object> Records => _records;

    // The term this replica leads in and the index its Active role waits for (its no-op, or a log it must catch up with).
    private long _leaderTerm = -1;
    private long? _activateAt;

    public TxnRoleCore Reader => Active ?? Shadow;

    public bool ActiveHasReady => Active is { HasReady: true } && Gated is null;

    public void Apply(LogEntry entry, ITxnRecordCodec codec)
    {
        AppliedIndex = entry.Index;
        if (entry.Type != EntryType.Normal) return;
        foreach (var record in codec.Decode(entry.Data))
        {
            _records.Add(record);
            Shadow.Coordinator?.Recover(record);
            Shadow.Participant?.Recover(record);
        }
        // An entry of another term committed while acting cannot be this role's own: rebuild from the log.
        if (Active is not null && entry.Term != _leaderTerm) Deactivate(rebuild: true);
    }

    /// <summary>Starts or stops the acting role as leadership comes and goes; true when a new Active role was built.</summary>
    public bool SyncLeadership(TxnConfig config, TxnGroups groups)
    {
        if (Raft.Role != RaftRole.Leader)
        {
            if (Active is not null || _activateAt is not null) Deactivate(rebuild: false);
            _leaderTerm = -1;
            return false;
        }
        if (Raft.Term != _leaderTerm)
        {
            Deactivate(rebuild: false);
            _leaderTerm = Raft.Term;
            _activateAt = Raft.LastLogIndex; // this term's no-op: everything before it is committed once it is
        }
        if (Active is not null || _activateAt is not { } at || AppliedIndex < at) return false;
        _activateAt = null;
        Active = new TxnRoleCore(Role, Group, groups.Shards, config, _records);
        return true;
    }

    /// <summary>Drops the acting role (its unreplicated effects with it), as a crash drops a classic role's memory.</summary>
    public void Deactivate(bool rebuild)
    {
        Active = null;
        Gated = null;
        _activateAt = rebuild && Raft.Role == RaftRole.Leader ? Raft.LastLogIndex : null;
    }
}
