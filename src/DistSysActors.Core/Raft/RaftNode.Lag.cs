using System.Collections.Immutable;

namespace DistSysActors.Core.Raft;

/// <summary>
/// Replication lag: a leader's view of every follower (sent, durable and applied positions, and how long the oldest
/// entry each lacks has existed), each node's own apply lag, and the delayed apply that demonstrates it.
/// </summary>
public sealed partial class RaftNode
{
    /// <summary>How long without an answer before a link counts as down (its lag unknown): one election timeout.</summary>
    /// <summary>When the commits a node recovers from its disk count as learned: before any reading of its clock.</summary>
    private const long RecoveredMs = long.MinValue;

    private long LinkDownAfterMs => (long)_config.ElectionTicks * _config.TickMs;

    /// <summary>
    /// The highest committed index the host may apply now: the commit index, except on a follower with
    /// <see cref="RaftConfig.ApplyDelayMs"/>, which applies only what it has known to be committed for that long.
    /// </summary>
    private long ApplyLimit =>
        _config.ApplyDelayMs == 0 || Role == RaftRole.Leader
            ? CommitIndex
            : Math.Min(CommitIndex, Math.Max(AppliedIndex, _commitTimeline.ReachedBy(_nowMs - _config.ApplyDelayMs)));

    /// <summary>
    /// This node's own apply lag at <paramref name="nowMs"/>: 0 when it has applied every commit it knows of, else how
    /// long ago it learned the oldest one it has not applied. Null when it cannot tell: a follower that knows no leader
    /// or has heard from none for an election timeout (its data may be arbitrarily stale). A follower learns commits
    /// from its leader's messages, so this is a lower bound on its staleness by up to one network trip.
    /// </summary>
    public long? LocalLagMs(long nowMs)
    {
        var now = Math.Max(nowMs, _nowMs);
        if (Role != RaftRole.Leader && (LeaderId is null || now - _leaderContactMs > LinkDownAfterMs)) return null;
        if (AppliedIndex >= CommitIndex) return 0;
        var learnedMs = _commitTimeline.ReachedAtMs(AppliedIndex + 1) ?? now;
        // Commits recovered from disk at a restart were learned before this clock began: how long ago is unknown.
        if (learnedMs == RecoveredMs) return null;
        return Math.Max(0, now - learnedMs);
    }

    /// <summary>
    /// Replication as this node sees it at <paramref name="nowMs"/> (like PostgreSQL's pg_stat_replication on a primary):
    /// its own applied index and lag, and, on a leader, one <see cref="ReplicaLag"/> per other member in NodeId order.
    /// </summary>
    public ReplicationStatus Replication(long nowMs)
    {
        var now = Math.Max(nowMs, _nowMs);
        var replicas = ImmutableArray<ReplicaLag>.Empty;
        if (Role == RaftRole.Leader)
        {
            var builder = ImmutableArray.CreateBuilder<ReplicaLag>(_progress.Count);
            foreach (var (peer, pr) in _progress) builder.Add(LagOf(peer, pr, now));
            replicas = builder.MoveToImmutable();
        }
        long? contactAgo = Role == RaftRole.Leader ? 0 : LeaderId is null ? null : now - _leaderContactMs;
        return new ReplicationStatus(Id, Role, LeaderId, CommitIndex, AppliedIndex, LocalLagMs(now), contactAgo, replicas,
            _appliedAtMs is { } at ? Math.Max(0, now - at) : null);
    }

    private ReplicaLag LagOf(NodeId peer, Progress pr, long now)
    {
        var heardAgo = now - pr.LastHeardMs;
        var sent = Math.Max(pr.Match, pr.Next - 1);
        if (heardAgo > LinkDownAfterMs)
            return new ReplicaLag(peer, _membership.IsVoter(peer), sent, pr.Match, pr.Applied, false, null, null, null, null, heardAgo);
        var last = _log.LastIndex;
        long writeLagMs = pr.Match >= last ? 0 : AgeOf(pr.Match + 1, now);
        // Entries the follower has not applied, counted against what the leader has committed (the most it could apply).
        long applyLagMs = pr.Applied >= CommitIndex ? 0 : AgeOf(pr.Applied + 1, now);
        return new ReplicaLag(peer, _membership.IsVoter(peer), sent, pr.Match, pr.Applied, true,
            Math.Max(0, last - pr.Match), writeLagMs, Math.Max(0, CommitIndex - pr.Applied), applyLagMs, heardAgo);
    }

    /// <summary>How long this leader has held the entry at <paramref name="index"/> (0 if it has not appended it).</summary>
    private long AgeOf(long index, long now) => Math.Max(0, now - (_appendTimeline.ReachedAtMs(index) ?? now));
}

/// <summary>
/// One node's view of replication: its role, commit and applied index, its own apply lag (null: unknown, it hears from
/// no leader), how long ago it last heard from its leader, on a leader every other member's <see cref="ReplicaLag"/>, and
/// how long ago its applied index last moved (the newest applied entry is at least that old; null: not since it started).
/// </summary>
public sealed record ReplicationStatus(
    NodeId Id, RaftRole Role, NodeId? LeaderId, long CommitIndex, long AppliedIndex, long? LagMs, long? LeaderContactAgoMs,
    ImmutableArray<ReplicaLag> Replicas, long? AppliedAgoMs = null);

/// <summary>
/// A leader's view of one follower. SentIndex: the last entry sent; MatchIndex: the last one it holds durably;
/// AppliedIndex: its state machine's, as last reported. Write lag: entries the leader holds and the follower does not,
/// and how long the leader has held the oldest of them; apply lag: entries committed here and not applied there, and the
/// age of the oldest (0 when caught up). All four are null while the link is down (no answer for an election timeout):
/// the lag is then unknown, never 0. HeardAgoMs: time since its last answer.
/// </summary>
public sealed record ReplicaLag(
    NodeId Node, bool Voter, long SentIndex, long MatchIndex, long AppliedIndex, bool LinkUp,
    long? WriteLagEntries, long? WriteLagMs, long? ApplyLagEntries, long? ApplyLagMs, long HeardAgoMs);
