using DistSysActors.Core.Quorum;

namespace DistSysActors.Core.Raft;

/// <summary>Roles, timers and elections: PreVote, votes, CheckQuorum and leases (paper 5.2, dissertation 4.2.3, 9.6).</summary>
public sealed partial class RaftNode
{
    // ---------------------------------------------------------------- roles

    private void ResetTimers()
    {
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _random.NextInt(_config.ElectionTicks, 2 * _config.ElectionTicks);
    }

    private void BecomeFollower(long term, NodeId? leader)
    {
        var leaderChanged = leader != LeaderId || term != Term;
        if (term != Term)
        {
            Term = term;
            VotedFor = null;
            _incoming = null; // chunks from an older leader will not be completed
        }
        if (Role == RaftRole.Leader) DropLeaderReads();
        if (leaderChanged) DropForwardedReads();
        TransferTarget = null;
        Role = RaftRole.Follower;
        LeaderId = leader;
        _progress.Clear();
        ResetTimers();
    }

    private void StartElection()
    {
        if (_config.PreVote) BecomePreCandidate();
        else BecomeCandidate();
    }

    private void BecomePreCandidate()
    {
        DropForwardedReads();
        Role = RaftRole.PreCandidate;
        LeaderId = null;
        _votes.Clear();
        ResetTimers();
        _votes[Id] = true;
        if (_quorum!.Vote(_votes) == VoteResult.Won) { BecomeCandidate(); return; }
        foreach (var peer in _peers)
            Send(new RequestVote(Id, peer, Term + 1, _log.LastIndex, _log.LastTerm, true));
    }

    private void BecomeCandidate(bool transfer = false)
    {
        DropForwardedReads();
        Role = RaftRole.Candidate;
        Term++;
        VotedFor = Id;
        LeaderId = null;
        _votes.Clear();
        ResetTimers();
        _votes[Id] = true;
        if (_quorum!.Vote(_votes) == VoteResult.Won) { BecomeLeader(); return; }
        foreach (var peer in _peers)
            Send(new RequestVote(Id, peer, Term, _log.LastIndex, _log.LastTerm, false, transfer));
    }

    private void BecomeLeader()
    {
        Role = RaftRole.Leader;
        LeaderId = Id;
        TransferTarget = null;
        _timeoutNowSentThisTerm = false;
        ResetTimers();
        _progress.Clear();
        foreach (var peer in _peers)
            _progress[peer] = NewProgress();
        _roundSentMs.Clear();
        // Lag is measured from this leader's appends; what its log holds already counts as appended now.
        _appendTimeline.Reset(_log.LastIndex, _nowMs);
        // Section 8 of the paper: a no-op entry commits the new term, which also fixes the read index.
        _log.Append(new LogEntry(_log.LastIndex + 1, Term, EntryType.NoOp, LogEntry.EmptyData));
        _appendTimeline.Record(_log.LastIndex, _nowMs);
        BroadcastAppend(sendIfEmpty: true);
    }

    // ---------------------------------------------------------------- time

    private void TickElection()
    {
        _electionElapsed++;
        if (!IsVoter) return; // learners, removed nodes and nodes waiting to join never campaign
        if (_electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            StartElection();
        }
    }

    private void TickLeader()
    {
        _electionElapsed++;
        _heartbeatElapsed++;
        if (_electionElapsed >= _config.ElectionTicks)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum)
            {
                // Dissertation 6.2: a leader that has not heard from a majority for an election timeout steps down.
                var active = _progress.Where(p => p.Value.RecentActive).Select(p => p.Key).Append(Id);
                if (!_quorum!.IsQuorum(active))
                {
                    BecomeFollower(Term, null);
                    return;
                }
                foreach (var pr in _progress.Values) pr.RecentActive = false;
            }
        }
        if (TransferTarget is not null && ++_transferElapsed >= _config.TransferTimeoutElections * _config.ElectionTicks)
            TransferTarget = null; // the target did not take over in time: serve proposals again
        foreach (var (peer, pr) in _progress)
        {
            // A chunk lost or a follower slow to persist must not stall the snapshot forever: send it again.
            if (pr.State == ProgressState.Snapshot && pr.SnapshotChunkInFlight && _ticksTotal - pr.SnapshotChunkSentTick >= _config.ElectionTicks)
            {
                pr.OnSnapshotChunkTimeout();
                while (SendSnapshotChunk(peer, pr)) { }
            }
        }
        if (_heartbeatElapsed >= _config.HeartbeatTicks)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat();
            MaybePromoteLearner();
        }
    }

    /// <summary>A follower that heard from a leader within the election timeout ignores vote requests (with CheckQuorum).</summary>
    private bool InLease() =>
        _config.CheckQuorum && (LeaderId is not null && _electionElapsed < _config.ElectionTicks
            || _ticksTotal < _quietUntilTick);

    // ---------------------------------------------------------------- elections

    private void HandleRequestVote(RequestVote m)
    {
        var canVote = VotedFor == m.From
            || (VotedFor is null && LeaderId is null)
            || (m.PreVote && m.Term > Term);
        if (canVote && _log.IsUpToDate(m.LastLogIndex, m.LastLogTerm))
        {
            // A pre-vote grant changes nothing here, so it need not wait for this node's disk; a vote is durable first.
            var grant = new RequestVoteResponse(Id, m.From, m.PreVote ? m.Term : Term, true, m.PreVote);
            if (m.PreVote) SendBeforePersist(grant);
            else Send(grant);
            if (!m.PreVote)
            {
                VotedFor = m.From;
                _electionElapsed = 0;
            }
        }
        else
        {
            Send(new RequestVoteResponse(Id, m.From, Term, false, m.PreVote));
        }
    }

    private void HandleVoteResponse(RequestVoteResponse m)
    {
        if (Role == RaftRole.PreCandidate && m.PreVote && (m.Granted ? m.Term == Term + 1 : m.Term == Term))
        {
            _votes.TryAdd(m.From, m.Granted);
            switch (_quorum!.Vote(_votes))
            {
                case VoteResult.Won: BecomeCandidate(); break;
                case VoteResult.Lost: BecomeFollower(Term, null); break;
            }
        }
        else if (Role == RaftRole.Candidate && !m.PreVote && m.Term == Term)
        {
            _votes.TryAdd(m.From, m.Granted);
            switch (_quorum!.Vote(_votes))
            {
                case VoteResult.Won: BecomeLeader(); break;
                case VoteResult.Lost: BecomeFollower(Term, null); break;
            }
        }
    }
}
