using System.Collections.Immutable;
using DistSysActors.Core.Quorum;

namespace DistSysActors.Core.Raft;

/// <summary>Membership changes (dissertation 4.1-4.2) and leadership transfer (3.10).</summary>
public sealed partial class RaftNode
{
    /// <summary>
    /// Proposes a single-server membership change (dissertation 4.2). Only a leader accepts it, one change at a time,
    /// and only after it has committed an entry of its own term; Dropped otherwise.
    /// </summary>
    public ProposeResult ProposeConfChange(ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        string? reason = null;
        if (Role != RaftRole.Leader) reason = "not the leader";
        else if (TransferTarget is not null) reason = "a leadership transfer is under way";
        // Dissertation 4.1 (bug fix): a leader changes membership only after committing an entry of its own term.
        else if (!CommittedInCurrentTerm) reason = "the leader has not committed an entry of its term yet";
        else if (_lastConfIndex > CommitIndex) reason = $"the membership change at index {_lastConfIndex} is not committed yet";
        else if (_log.LastIndex - CommitIndex >= _config.UncommittedEntriesMax) reason = "too many uncommitted entries";
        else reason = _membership.Check(change);
        if (reason is not null) return new ProposeResult(ProposeStatus.Dropped, 0, 0, LeaderId, reason);

        var after = _membership.Apply(change);
        var entry = new LogEntry(_log.LastIndex + 1, Term, EntryType.ConfChange, change.EncodeEntry(after));
        _log.Append(entry);
        _lastConfIndex = entry.Index;
        SetMembership(after); // takes effect on append, before it commits (dissertation 4.1)
        _appendTimeline.Record(entry.Index, _nowMs);
        _appendPending = true;
        return new ProposeResult(ProposeStatus.Appended, entry.Index, entry.Term, Id);
    }

    /// <summary>
    /// Starts a leadership transfer to <paramref name="target"/> (dissertation 3.10): the leader stops accepting
    /// proposals, brings the target up to date, then sends it TimeoutNow. False when not leader or the target is not a
    /// voter. The transfer is abandoned after TransferTimeoutElections election timeouts.
    /// </summary>
    public bool TransferLeadership(NodeId target)
    {
        if (Role != RaftRole.Leader || target == Id || !_membership.IsVoter(target) || !_progress.TryGetValue(target, out var pr)) return false;
        if (TransferTarget == target) return true;
        TransferTarget = target;
        _transferElapsed = 0;
        _timeoutNowSent = false;
        if (pr.Match == _log.LastIndex) SendTimeoutNow(target);
        else SendAppend(target, sendIfEmpty: true);
        return true;
    }

    /// <summary>
    /// The other voter with the highest Match (lowest NodeId on ties): the natural target of a leadership transfer when
    /// the user names none. Null when not leader or there is no other voter.
    /// </summary>
    public NodeId? MostCaughtUpVoter()
    {
        if (Role != RaftRole.Leader) return null;
        NodeId? best = null;
        long bestMatch = -1;
        foreach (var (peer, pr) in _progress)
            if (_membership.IsVoter(peer) && pr.Match > bestMatch) { best = peer; bestMatch = pr.Match; }
        return best;
    }

    // ---------------------------------------------------------------- membership

    /// <summary>Membership after every ConfChange entry through index (the snapshot's membership plus the log's changes).</summary>
    private Membership MembershipThrough(long index)
    {
        // _baseMembership holds at the snapshot; entries kept before it (the compaction margin) are already in it.
        var m = _baseMembership;
        for (var i = Math.Max(_log.FirstIndex, (_snapshot?.Meta.Index ?? 0) + 1); i <= Math.Min(index, _log.LastIndex); i++)
        {
            var e = _log.At(i);
            if (e.Type == EntryType.ConfChange) m = After(m, e);
        }
        return m;
    }

    /// <summary>The membership a ConfChange entry leads to: the one it carries, else its change applied (if valid).</summary>
    private static Membership After(Membership m, LogEntry e)
    {
        if (ConfChange.DecodeMembership(e.Data) is { } carried) return carried;
        var change = ConfChange.Decode(e.Data);
        return m.Check(change) is null ? m.Apply(change) : m;
    }

    /// <summary>Recomputes the membership in force from the snapshot and the whole log (after start, truncation or a snapshot).</summary>
    private void RebuildMembership()
    {
        _lastConfIndex = 0;
        for (var i = _log.LastIndex; i >= _log.FirstIndex; i--)
            if (_log.At(i).Type == EntryType.ConfChange) { _lastConfIndex = i; break; }
        SetMembership(MembershipThrough(_log.LastIndex));
    }

    private void SetMembership(Membership m)
    {
        _membership = m;
        _quorum = m.Voters.IsEmpty ? null : new MajorityQuorum(m.Voters);
        _peers = m.All.Where(n => n != Id).Order().ToImmutableArray();
        if (Role == RaftRole.Leader)
        {
            foreach (var peer in _peers)
                if (!_progress.ContainsKey(peer)) _progress[peer] = NewProgress();
            foreach (var gone in _progress.Keys.Where(p => !_peers.Contains(p)).ToList()) _progress.Remove(gone);
            if (TransferTarget is { } target && !m.IsVoter(target)) TransferTarget = null;
        }
    }

    /// <summary>Progress of a new peer: probing from the leader's last index + 1.</summary>
    private Progress NewProgress() =>
        new(_log.LastIndex + 1, _config.InflightMessagesMax, _config.InflightBytesMax, (long)_config.SnapshotChunksInflightMax * _config.SnapshotChunkBytes)
        {
            LastHeardMs = _nowMs,
        };

    private bool IsVoter => _membership.IsVoter(Id);

    /// <summary>Whether this node is the only voter (then nobody else's answer is needed).</summary>
    private bool SoleVoter => _membership.Voters.Length == 1 && _membership.Voters[0] == Id;

    private void SendTimeoutNow(NodeId target)
    {
        _timeoutNowSent = true;
        _timeoutNowSentThisTerm = true;
        SendBeforePersist(new TimeoutNow(Id, target, Term));
    }

    /// <summary>
    /// Dissertation 4.2.1: a learner whose log has caught up with the leader's commit index becomes a voter, one change
    /// at a time; under load it may trail the commit index, so it is retried on every heartbeat and append answer.
    /// </summary>
    private void MaybePromoteLearner()
    {
        if (!_config.AutoPromoteLearners || Role != RaftRole.Leader || TransferTarget is not null
            || _lastConfIndex > CommitIndex || !CommittedInCurrentTerm) return;
        foreach (var learner in _membership.Learners)
            if (_progress.TryGetValue(learner, out var pr) && pr.Match >= CommitIndex)
            {
                ProposeConfChange(new ConfChange(ConfChangeType.PromoteLearner, learner));
                return;
            }
    }

    /// <summary>
    /// Dissertation 4.2.2: a leader removed from the membership manages the cluster until the change commits (without
    /// counting itself), then tells the followers the commit, hands over to the most caught-up voter and steps down.
    /// </summary>
    private void MaybeStepDownRemoved()
    {
        if (Role != RaftRole.Leader || IsVoter || _lastConfIndex > CommitIndex) return;
        BroadcastHeartbeat();
        if (MostCaughtUpVoter() is { } next && _progress[next].Match == _log.LastIndex) SendTimeoutNow(next);
        BecomeFollower(Term, null);
    }
}
