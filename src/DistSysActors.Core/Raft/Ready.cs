using System.Collections.Immutable;

namespace DistSysActors.Core.Raft;

/// <summary>
/// The effects a node buffered since the last <see cref="RaftNode.Advance"/>. The host executes them in this order:
/// <list type="number">
/// <item>send <see cref="MessagesBeforePersist"/> (may overlap with step 2);</item>
/// <item>persist <see cref="Snapshot"/> (if not null: it replaces the whole stored log — delete every stored entry,
///   whatever its index; entries the node kept after the snapshot come again in Entries), <see cref="HardState"/>
///   (if not null) and <see cref="Entries"/>: first delete every stored entry with index &gt;= Entries[0].Index, then
///   append Entries; make it durable;</item>
/// <item>send <see cref="Messages"/> (they promise what step 2 stored: votes, append acknowledgements);</item>
/// <item>restore the state machine from <see cref="Snapshot"/> (if not null), then apply <see cref="CommittedEntries"/> in order, then answer <see cref="ReadStates"/> from the state machine and fail <see cref="ReadsDropped"/>;</item>
/// <item>call <see cref="RaftNode.Advance"/> with this Ready.</item>
/// </list>
/// </summary>
/// <remarks>
/// <see cref="MessagesBeforePersist"/> holds only a leader's AppendEntries, heartbeats, InstallSnapshot chunks and
/// TimeoutNow: they promise nothing about
/// the leader's own disk, and the leader counts itself toward a commit quorum only after Advance acknowledges that its
/// entries are durable (Raft dissertation 10.2.1).
/// </remarks>
public sealed record Ready(
    HardState? HardState,
    ImmutableArray<LogEntry> Entries,
    ImmutableArray<RaftMessage> MessagesBeforePersist,
    ImmutableArray<RaftMessage> Messages,
    ImmutableArray<LogEntry> CommittedEntries,
    ImmutableArray<ReadState> ReadStates,
    ImmutableArray<long> ReadsDropped,
    RaftSnapshot? Snapshot = null)
{
    /// <summary>Whether step 2 must reach the disk before step 3.</summary>
    public bool MustSync => HardState is not null || !Entries.IsEmpty || Snapshot is not null;

    public IEnumerable<RaftMessage> AllMessages => MessagesBeforePersist.Concat(Messages);
}
