using DistSysActors.Core;
using DistSysActors.Core.Raft;

namespace DistSysActors.Actors.Raft;

/// <summary>What a <see cref="RaftActor"/> writes to its journal: term/vote/commit, and log entries (replacing any from FromIndex on).</summary>
public abstract record RaftEvent : IWireSerialized;

public sealed record RaftHardStateSaved(long Term, int? Vote, long Commit) : RaftEvent
{
    public static RaftHardStateSaved From(HardState hs) => new(hs.Term, hs.Vote?.Value, hs.Commit);
    public HardState ToHardState() => new(Term, Vote is { } v ? new NodeId(v) : null, Commit);
}

public sealed record RaftEntriesSaved(long FromIndex, RaftEntryRecord[] Entries) : RaftEvent;

public sealed record RaftEntryRecord(long Index, long Term, EntryType Type, byte[] Data)
{
    public static RaftEntryRecord From(LogEntry e) => new(e.Index, e.Term, e.Type, e.Data);
    public LogEntry ToEntry() => new(Index, Term, Type, Data);
}

/// <summary>
/// What a <see cref="RaftActor"/> saves in the snapshot store: the state machine's snapshot (Data, through
/// SnapshotIndex, with the membership in force there), the log entries after it that the journal held at that moment,
/// and term/vote/commit. The journal is deleted through the sequence number of this snapshot, so all three are needed
/// to recover.
/// </summary>
public sealed record RaftStateSnapshot(
    RaftHardStateSaved HardState, long SnapshotIndex, long SnapshotTerm, int[] Voters, int[] Learners, byte[] Data, RaftEntryRecord[] Tail)
    : IWireSerialized
{
    public RaftSnapshot ToSnapshot() =>
        new(new SnapshotMeta(SnapshotIndex, SnapshotTerm, new Membership(Voters.Select(v => new NodeId(v)), Learners.Select(l => new NodeId(l)))), Data);
}
