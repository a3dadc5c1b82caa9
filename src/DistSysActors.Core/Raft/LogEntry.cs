using System.Collections.Immutable;

namespace DistSysActors.Core.Raft;

public enum EntryType
{
    /// <summary>A client command for the replicated state machine.</summary>
    Normal,
    /// <summary>The empty entry a new leader appends to commit its term (Raft paper section 8).</summary>
    NoOp,
    /// <summary>A membership change (<see cref="ConfChange"/> encoded in Data); it takes effect when appended (dissertation 4.1).</summary>
    ConfChange,
}

/// <summary>One log entry; Data is opaque to Raft (the state machine decodes it).</summary>
public sealed record LogEntry(long Index, long Term, EntryType Type, byte[] Data)
{
    public static readonly byte[] EmptyData = [];

    public bool Equals(LogEntry? other) =>
        other is not null && Index == other.Index && Term == other.Term && Type == other.Type
        && Data.AsSpan().SequenceEqual(other.Data);

    public override int GetHashCode() => HashCode.Combine(Index, Term, Type, Data.Length);

    public override string ToString() => $"{Index}@{Term}{(Type == EntryType.NoOp ? "(noop)" : "")}[{Data.Length}B]";
}

/// <summary>What a node must persist besides its log: current term, vote in that term, commit index.</summary>
/// <remarks>Commit is persisted only to avoid re-deriving it after restart; losing it is safe.</remarks>
public sealed record HardState(long Term, NodeId? Vote, long Commit)
{
    public static readonly HardState Empty = new(0, null, 0);
}

/// <summary>
/// Everything a node persisted: the state a restarted node is built from. With a <see cref="Snapshot"/>, Entries
/// continue its log from Snapshot.Meta.Index + 1 and the host restores its state machine from Snapshot.Data.
/// </summary>
public sealed record RaftPersistentState(HardState HardState, ImmutableArray<LogEntry> Entries, RaftSnapshot? Snapshot = null)
{
    public static readonly RaftPersistentState Empty = new(HardState.Empty, ImmutableArray<LogEntry>.Empty);
}

/// <summary>Where a snapshot ends in the log, and the membership in force at that point.</summary>
public sealed record SnapshotMeta(long Index, long Term, Membership Membership);

/// <summary>The state machine's state through <see cref="SnapshotMeta.Index"/>, opaque to Raft.</summary>
public sealed record RaftSnapshot(SnapshotMeta Meta, byte[] Data)
{
    public override string ToString() => $"snapshot {Meta.Index}@{Meta.Term} [{Data.Length}B] {Meta.Membership}";
}

public enum RaftRole
{
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// <summary>How a read is confirmed (the host serves it from its state machine once released).</summary>
public enum ReadMode
{
    /// <summary>Leader confirms leadership with a heartbeat round (Raft dissertation 6.4).</summary>
    ReadIndex,
    /// <summary>Leader relies on its lease (CheckQuorum only); falls back to a heartbeat round when the lease is not held.</summary>
    Lease,
}

/// <summary>A read that may be served once the state machine has applied <see cref="Index"/>.</summary>
public sealed record ReadState(long RequestId, long Index);

/// <summary>Snapshot of a node's volatile view, for status pages and tests.</summary>
public sealed record RaftStatus(
    NodeId Id, RaftRole Role, long Term, NodeId? LeaderId, long CommitIndex, long AppliedIndex, long LastLogIndex, long StableIndex,
    long SnapshotIndex = 0, Membership? Membership = null, NodeId? TransferTarget = null);

/// <summary>A leader's view of one follower: Match is the highest index known replicated there, Next the next to send.</summary>
public sealed record PeerProgress(NodeId Node, bool Voter, long Match, long Next, bool RecentActive);
