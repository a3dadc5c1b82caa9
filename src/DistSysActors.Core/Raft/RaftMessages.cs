using System.Collections.Immutable;

namespace DistSysActors.Core.Raft;

/// <summary>
/// Every message a Raft node sends or receives. <see cref="Term"/> is the sender's term; 0 marks
/// the term-less requests (<see cref="Propose"/>, <see cref="ReadIndexRequest"/>) that a follower
/// forwards to its leader.
/// </summary>
public abstract record RaftMessage(NodeId From, NodeId To, long Term) : IWireSerialized;

/// <summary>
/// RequestVote RPC (Raft paper section 5.2); PreVote asks "would you vote for me at Term?" without changing anyone's
/// term (dissertation 9.6). Transfer marks an election started by <see cref="TimeoutNow"/>: voters grant it even while
/// they believe a leader is alive (dissertation 3.10), since that leader asked for it.
/// </summary>
public sealed record RequestVote(NodeId From, NodeId To, long Term, long LastLogIndex, long LastLogTerm, bool PreVote, bool Transfer = false)
    : RaftMessage(From, To, Term);

/// <summary>A granted PreVote carries the term it was asked for; a refusal carries the voter's term.</summary>
public sealed record RequestVoteResponse(NodeId From, NodeId To, long Term, bool Granted, bool PreVote)
    : RaftMessage(From, To, Term);

/// <summary>AppendEntries RPC (Raft paper section 5.3).</summary>
public sealed record AppendEntries(
    NodeId From, NodeId To, long Term, long PrevLogIndex, long PrevLogTerm, ImmutableArray<LogEntry> Entries, long LeaderCommit)
    : RaftMessage(From, To, Term)
{
    public override string ToString() =>
        $"AppendEntries {{ {From}->{To} t{Term} prev {PrevLogIndex}@{PrevLogTerm} n={Entries.Length} commit {LeaderCommit} }}";
}

/// <summary>
/// Success: the follower's log matches the leader's through <see cref="MatchIndex"/>.
/// Refusal of the entry at <see cref="RejectedIndex"/>: <see cref="ConflictTerm"/> is the follower's term there
/// (0 if its log is shorter) and <see cref="ConflictIndex"/> the first index of that term, or its last index + 1.
/// </summary>
public sealed record AppendEntriesResponse(
    NodeId From, NodeId To, long Term, bool Success, long MatchIndex, long RejectedIndex, long ConflictIndex, long ConflictTerm)
    : RaftMessage(From, To, Term);

/// <summary>Leader heartbeat; Commit is capped at the follower's known match; Round numbers the broadcast for ReadIndex and leases.</summary>
public sealed record Heartbeat(NodeId From, NodeId To, long Term, long Commit, long Round) : RaftMessage(From, To, Term);

/// <summary>
/// A follower's answer to a heartbeat round; Applied is its state machine's applied index then, which gives the leader
/// each replica's apply lag (0 from a sender that predates the field).
/// </summary>
public sealed record HeartbeatResponse(NodeId From, NodeId To, long Term, long Round, long Applied = 0) : RaftMessage(From, To, Term);

/// <summary>A client command forwarded by a follower to its leader (term-less).</summary>
public sealed record Propose(NodeId From, NodeId To, byte[] Data) : RaftMessage(From, To, 0);

/// <summary>A follower asking its leader for a read index on behalf of request <see cref="RequestId"/> (term-less).</summary>
public sealed record ReadIndexRequest(NodeId From, NodeId To, long RequestId, ReadMode Mode) : RaftMessage(From, To, 0);

/// <summary>The leader's confirmed read index for a follower's request.</summary>
public sealed record ReadIndexResponse(NodeId From, NodeId To, long Term, long RequestId, long Index) : RaftMessage(From, To, Term);

/// <summary>
/// InstallSnapshot RPC (Raft paper section 7, Figure 13): one chunk of the leader's snapshot, at byte Offset of the
/// snapshot's data; Done marks the last chunk. Chunks are sent one at a time, each at most the configured chunk size.
/// </summary>
public sealed record InstallSnapshot(NodeId From, NodeId To, long Term, SnapshotMeta Meta, long Offset, byte[] Data, bool Done)
    : RaftMessage(From, To, Term)
{
    public override string ToString() =>
        $"InstallSnapshot {{ {From}->{To} t{Term} {Meta.Index}@{Meta.Term} offset {Offset} n={Data.Length}{(Done ? " done" : "")} }}";
}

/// <summary>
/// A follower's answer to a snapshot chunk: NextOffset is the byte it expects next for the snapshot at SnapshotIndex
/// (0 to restart from the beginning); Done when the whole snapshot is installed and durable.
/// </summary>
public sealed record InstallSnapshotResponse(NodeId From, NodeId To, long Term, long SnapshotIndex, long NextOffset, bool Done)
    : RaftMessage(From, To, Term);

/// <summary>Leadership transfer (dissertation 3.10): the leader tells an up-to-date follower to start an election now.</summary>
public sealed record TimeoutNow(NodeId From, NodeId To, long Term) : RaftMessage(From, To, Term);
