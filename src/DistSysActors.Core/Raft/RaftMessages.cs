using System.Collections.Immutable;

namespace DistSysActors.Core.Raft;

/// <summary>
/// Every message a Raft node sends or receives. <see cref="Term"/> is the sender's term; 0 marks
/// the term-less requests (<see cref="Propose"/>, <see cref="ReadIndexRequest"/>) that a follower
/// forwards to its leader.
/// </summary>
public abstract record RaftMessage(NodeId From, NodeId To, long Term);

/// <summary>RequestVote RPC (Raft paper section 5.2); PreVote asks "would you vote for me at Term?" without changing anyone's term (dissertation 9.6).</summary>
public sealed record RequestVote(NodeId From, NodeId To, long Term, long LastLogIndex, long LastLogTerm, bool PreVote)
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

public sealed record HeartbeatResponse(NodeId From, NodeId To, long Term, long Round) : RaftMessage(From, To, Term);

/// <summary>A client command forwarded by a follower to its leader (term-less).</summary>
public sealed record Propose(NodeId From, NodeId To, byte[] Data) : RaftMessage(From, To, 0);

/// <summary>A follower asking its leader for a read index on behalf of request <see cref="RequestId"/> (term-less).</summary>
public sealed record ReadIndexRequest(NodeId From, NodeId To, long RequestId, ReadMode Mode) : RaftMessage(From, To, 0);

/// <summary>The leader's confirmed read index for a follower's request.</summary>
public sealed record ReadIndexResponse(NodeId From, NodeId To, long Term, long RequestId, long Index) : RaftMessage(From, To, Term);
