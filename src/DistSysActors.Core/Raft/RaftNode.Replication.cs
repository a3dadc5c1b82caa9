namespace DistSysActors.Core.Raft;

/// <summary>Log replication on both sides, commit and proposals (paper 5.3-5.4, flow control).</summary>
public sealed partial class RaftNode
{
    // ---------------------------------------------------------------- replication (follower side)

    private void HandleAppendEntries(AppendEntries m)
    {
        _electionElapsed = 0;
        LeaderId = m.From;
        _leaderContactMs = _nowMs;
        if (m.PrevLogIndex < CommitIndex)
        {
            // Everything through our commit index already matches any leader's log (Leader Completeness): skip that part.
            var skip = (int)Math.Min(CommitIndex - m.PrevLogIndex, m.Entries.Length);
            if (skip == m.Entries.Length)
            {
                Send(new AppendEntriesResponse(Id, m.From, Term, true, CommitIndex, 0, 0, 0));
                return;
            }
            m = m with { PrevLogIndex = CommitIndex, PrevLogTerm = _log.TermAt(CommitIndex)!.Value, Entries = m.Entries[skip..] };
        }
        if (!_log.MatchTerm(m.PrevLogIndex, m.PrevLogTerm))
        {
            // Section 5.3 consistency check failed: hint where the leader should look next.
            long conflictIndex, conflictTerm;
            var termThere = _log.TermAt(m.PrevLogIndex);
            if (termThere is null)
            {
                conflictIndex = _log.LastIndex + 1;
                conflictTerm = 0;
            }
            else
            {
                conflictTerm = termThere.Value;
                conflictIndex = _log.FirstIndexOfTermAt(m.PrevLogIndex, CommitIndex);
            }
            Send(new AppendEntriesResponse(Id, m.From, Term, false, 0, m.PrevLogIndex, conflictIndex, conflictTerm));
            return;
        }
        var membershipChanged = false;
        foreach (var e in m.Entries)
        {
            if (_log.MatchTerm(e.Index, e.Term)) continue;
            if (e.Index <= CommitIndex) throw new InvalidOperationException($"node {Id}: entry {e} conflicts with committed index {CommitIndex}");
            // Truncating an uncommitted ConfChange rolls the membership back to the previous one in the log.
            membershipChanged |= e.Index <= _lastConfIndex && e.Index <= _log.LastIndex;
            _log.TruncateFrom(e.Index);
            _log.Append(e);
            membershipChanged |= e.Type == EntryType.ConfChange;
        }
        if (membershipChanged) RebuildMembership();
        var lastNew = m.PrevLogIndex + m.Entries.Length;
        CommitTo(Math.Min(m.LeaderCommit, lastNew));
        Send(new AppendEntriesResponse(Id, m.From, Term, true, lastNew, 0, 0, 0));
    }

    private void HandleHeartbeat(Heartbeat m)
    {
        _electionElapsed = 0;
        LeaderId = m.From;
        _leaderContactMs = _nowMs;
        // The leader caps Commit at what it knows we hold, so it never exceeds our matching prefix.
        CommitTo(Math.Min(m.Commit, _log.LastIndex));
        SendBeforePersist(new HeartbeatResponse(Id, m.From, Term, m.Round, AppliedIndex));
    }

    private void CommitTo(long index)
    {
        if (index <= CommitIndex) return;
        CommitIndex = index;
        _commitTimeline.Record(index, _nowMs);
    }

    // ---------------------------------------------------------------- replication (leader side)

    private void BroadcastAppend(bool sendIfEmpty)
    {
        foreach (var peer in _peers) SendAppend(peer, sendIfEmpty);
    }

    private bool SendAppend(NodeId peer, bool sendIfEmpty)
    {
        var pr = _progress[peer];
        if (pr.State == ProgressState.Snapshot) return SendSnapshotChunk(peer, pr);
        if (pr.IsPaused) return false;
        if (pr.Next <= _log.SnapshotIndex)
        {
            // Section 7 of the paper: the entries this follower needs were compacted; send the snapshot instead.
            pr.BecomeSnapshot(_snapshot ?? throw new InvalidOperationException($"leader {Id} compacted to {_log.SnapshotIndex} without a snapshot"));
            var sent = false;
            while (SendSnapshotChunk(peer, pr)) sent = true; // fill the window of chunks in flight
            return sent;
        }
        var prevIndex = pr.Next - 1;
        var prevTerm = _log.TermAt(prevIndex) ?? throw new InvalidOperationException($"leader {Id} has no entry {prevIndex} for {peer}");
        var entries = _log.Slice(pr.Next, _log.LastIndex, _config.AppendEntriesMax, _config.AppendBytesMax);
        if (entries.Count == 0 && !sendIfEmpty) return false;
        SendBeforePersist(new AppendEntries(Id, peer, Term, prevIndex, prevTerm, [.. entries], CommitIndex));
        pr.CommitSent = Math.Max(pr.CommitSent, Math.Min(CommitIndex, prevIndex + entries.Count));
        pr.OnSent(entries.Count > 0 ? entries[^1].Index : prevIndex, entries.Count, entries.Sum(e => (long)e.Data.Length));
        return true;
    }

    private void HandleAppendResponse(AppendEntriesResponse m)
    {
        if (!_progress.TryGetValue(m.From, out var pr)) return;
        pr.RecentActive = true;
        pr.LastHeardMs = _nowMs;
        if (!m.Success)
        {
            if (m.RejectedIndex == 0) return; // a refusal that only carried a newer term
            var hintNext = m.ConflictTerm == 0
                ? m.ConflictIndex
                : (_log.LastIndexOfTerm(m.ConflictTerm, m.RejectedIndex) is { } last ? last + 1 : m.ConflictIndex);
            if (pr.MaybeDecrease(m.RejectedIndex, hintNext)) SendAppend(m.From, sendIfEmpty: true);
            return;
        }
        var wasProbe = pr.State == ProgressState.Probe;
        if (!pr.MaybeUpdate(m.MatchIndex))
        {
            if (wasProbe && !pr.ProbeSent) SendAppend(m.From, sendIfEmpty: false);
            return;
        }
        if (wasProbe || pr.State == ProgressState.Snapshot && pr.Match >= pr.PendingSnapshot!.Meta.Index) pr.BecomeReplicate();
        // A new commit index reaches followers with the next append or heartbeat.
        if (MaybeCommit()) BroadcastAppend(sendIfEmpty: false);
        while (SendAppend(m.From, sendIfEmpty: false)) { }
        AfterLeaderProgress(m.From);
    }

    /// <summary>What a leader does after a follower's match or its own commit index moved.</summary>
    private void AfterLeaderProgress(NodeId? peer = null)
    {
        if (Role != RaftRole.Leader) return;
        if (peer is { } p && TransferTarget == p && !_timeoutNowSent && _progress[p].Match == _log.LastIndex) SendTimeoutNow(p);
        MaybePromoteLearner();
        MaybeStepDownRemoved();
    }

    private void HandleHeartbeatResponse(HeartbeatResponse m)
    {
        if (!_progress.TryGetValue(m.From, out var pr)) return;
        pr.RecentActive = true;
        pr.LastHeardMs = _nowMs;
        pr.OnHeartbeatResponse();
        // The answer to the latest round tells the follower's applied index (an answer to an older round may be reordered).
        if (m.Round >= pr.AckedRound) pr.Applied = m.Applied;
        if (m.Round > pr.AckedRound) pr.AckedRound = m.Round;
        if (pr.Match < _log.LastIndex) SendAppend(m.From, sendIfEmpty: true);
        ReleaseConfirmedReads();
        AfterLeaderProgress(m.From);
    }

    /// <summary>Section 5.4.2 (Figure 8): only an entry of the current term is committed by counting replicas.</summary>
    private bool MaybeCommit()
    {
        var index = _quorum!.CommittedIndex(n => n == Id ? _log.StableIndex : _progress[n].Match);
        if (index <= CommitIndex || _log.TermAt(index) != Term) return false;
        CommitIndex = index;
        _commitTimeline.Record(index, _nowMs);
        StartDeferredReads();
        return true;
    }

    private bool CommittedInCurrentTerm => _log.TermAt(CommitIndex) == Term;

    // ---------------------------------------------------------------- proposals

    private ProposeResult HandlePropose(Propose m)
    {
        if (Role == RaftRole.Leader)
        {
            var reason = m.Data.Length > _config.EntryBytesMax ? $"entry larger than {_config.EntryBytesMax} bytes"
                : _log.LastIndex - CommitIndex >= _config.UncommittedEntriesMax ? "too many uncommitted entries"
                : TransferTarget is not null ? "a leadership transfer is under way" // dissertation 3.10
                : null;
            if (reason is not null) return new ProposeResult(ProposeStatus.Dropped, 0, 0, LeaderId, reason);
            var entry = new LogEntry(_log.LastIndex + 1, Term, EntryType.Normal, m.Data);
            _log.Append(entry);
            _appendTimeline.Record(entry.Index, _nowMs);
            _appendPending = true; // every proposal until the next Ready shares one AppendEntries per follower

            return new ProposeResult(ProposeStatus.Appended, entry.Index, entry.Term, Id);
        }
        if (LeaderId is { } leader && _config.ProposalForwarding && m.From == Id && m.Data.Length <= _config.EntryBytesMax)
        {
            SendBeforePersist(new Propose(Id, leader, m.Data));
            return new ProposeResult(ProposeStatus.Forwarded, 0, 0, leader);
        }
        var why = LeaderId is null ? "no known leader"
            : !_config.ProposalForwarding ? "not the leader and proposal forwarding is off"
            : m.Data.Length > _config.EntryBytesMax ? $"entry larger than {_config.EntryBytesMax} bytes"
            : "not the leader";
        return new ProposeResult(ProposeStatus.Dropped, 0, 0, LeaderId, why);
    }
}
