namespace DistSysActors.Core.Raft;

/// <summary>Linearizable reads: ReadIndex and lease reads (dissertation 6.4).</summary>
public sealed partial class RaftNode
{
    // ---------------------------------------------------------------- reads (dissertation 6.4)

    private int ReadsPending => _readsAtLeader.Count + _readsForwarded.Count + _readsAwaitingApply.Count;

    private void HandleReadIndex(ReadIndexRequest m)
    {
        var local = m.From == Id;
        if (ReadsPending >= _config.ReadsPendingMax)
        {
            if (local) _readsDropped.Add(m.RequestId);
            return;
        }
        if (Role != RaftRole.Leader)
        {
            if (local && LeaderId is { } leader)
            {
                _readsForwarded.Add(m.RequestId);
                SendBeforePersist(new ReadIndexRequest(Id, leader, unchecked(m.RequestId + _readIdSalt), m.Mode));
            }
            else if (local) _readsDropped.Add(m.RequestId);
            return;
        }
        if (!CommittedInCurrentTerm)
        {
            // The commit index is not known to be current until the leader commits an entry of its term.
            _readsAtLeader.Add(new PendingRead(m.RequestId, m.From, 0, 0));
            return;
        }
        if (SoleVoter || (m.Mode == ReadMode.Lease && LeaseValid()))
        {
            ReleaseRead(m.RequestId, m.From, CommitIndex);
            return;
        }
        // Every read until the next Ready shares one heartbeat round.
        _readRoundPending = true;
        _readsAtLeader.Add(new PendingRead(m.RequestId, m.From, CommitIndex, _round + 1));
    }

    private void StartDeferredReads()
    {
        if (_readsAtLeader.Count == 0 || _readsAtLeader[0].Round != 0 || !CommittedInCurrentTerm) return;
        if (SoleVoter)
        {
            foreach (var r in _readsAtLeader) ReleaseRead(r.RequestId, r.From, CommitIndex);
            _readsAtLeader.Clear();
            return;
        }
        var round = BroadcastHeartbeat();
        for (var i = 0; i < _readsAtLeader.Count; i++)
            if (_readsAtLeader[i].Round == 0) _readsAtLeader[i] = _readsAtLeader[i] with { Index = CommitIndex, Round = round };
    }

    private long QuorumAckedRound() => _quorum!.CommittedIndex(n => n == Id ? _round : _progress[n].AckedRound);

    private void ReleaseConfirmedReads()
    {
        var acked = QuorumAckedRound();
        var released = 0;
        while (released < _readsAtLeader.Count && _readsAtLeader[released].Round != 0 && _readsAtLeader[released].Round <= acked)
        {
            var r = _readsAtLeader[released++];
            ReleaseRead(r.RequestId, r.From, r.Index);
        }
        _readsAtLeader.RemoveRange(0, released);
        // Rounds older than every follower's acknowledgement can no longer decide a lease.
        var oldest = _progress.Count == 0 ? _round : _progress.Values.Min(p => p.AckedRound);
        while (_roundSentMs.Count > 0 && (_roundSentMs.First().Key < Math.Min(oldest, acked) || _roundSentMs.Count > RoundsRememberedMax))
            _roundSentMs.Remove(_roundSentMs.First().Key);
    }

    private void ReleaseRead(long requestId, NodeId from, long index)
    {
        if (from == Id) _readsAwaitingApply.Add(new ReadState(requestId, index));
        else SendBeforePersist(new ReadIndexResponse(Id, from, Term, requestId, index));
    }

    /// <summary>
    /// The leader's answer to a read this node forwarded, under its id plus this incarnation's salt: an answer meant for
    /// an earlier incarnation, whose host numbered its reads from the same start, matches none of this one's reads.
    /// </summary>
    private void HandleReadIndexResponse(ReadIndexResponse m)
    {
        if (Role != RaftRole.Follower || m.From != LeaderId) return;
        var requestId = unchecked(m.RequestId - _readIdSalt);
        if (_readsForwarded.Remove(requestId)) _readsAwaitingApply.Add(new ReadState(requestId, m.Index));
    }

    /// <summary>
    /// Lease (dissertation 6.4.1): a majority answered a heartbeat round sent at time T on this node's clock, and each
    /// of those followers ignores vote requests until it has counted ElectionTicks since receiving it, so no other
    /// leader can exist before T + ElectionTicks ticks, less the configured drift. Measured on the host's monotonic
    /// clock (<see cref="ClockMs"/>), not in ticks processed: a leader whose process was paused (GC, SIGSTOP) has no
    /// lease left when it resumes, however few ticks it saw.
    /// </summary>
    private bool LeaseValid()
    {
        // A transferring leader may already have told its target to take over: no lease (dissertation 3.10).
        if (!_config.CheckQuorum || Role != RaftRole.Leader || TransferTarget is not null || _timeoutNowSentThisTerm) return false;
        if (SoleVoter) return true;
        var acked = QuorumAckedRound();
        return acked > 0 && _roundSentMs.TryGetValue(acked, out var sentMs) && _nowMs < sentMs + LeaseMs;
    }

    /// <summary>How long a lease lasts from the sending of the round that earned it: the election timeout less the drift margin.</summary>
    private long LeaseMs => (long)(_config.ElectionTicks - _config.LeaseClockDriftTicks) * _config.TickMs;

    /// <summary>
    /// A heartbeat of the current round to one follower, carrying the commit. Its answer counts for that round only,
    /// which it proves at a later time than the round's broadcast: safe for ReadIndex, conservative for the lease.
    /// </summary>
    private void SendCommitNotice(NodeId peer, Progress pr)
    {
        var commit = Math.Min(pr.Match, CommitIndex);
        SendBeforePersist(new Heartbeat(Id, peer, Term, commit, _round));
        pr.CommitSent = commit;
    }

    private long BroadcastHeartbeat()
    {
        var round = ++_round;
        // The latest clock reading: the round leaves now or (the Ready taken after a write) later, so a lease
        // counted from here ends no later than one counted from the real send.
        _roundSentMs[round] = _nowMs;
        foreach (var (peer, pr) in _progress)
        {
            var commit = Math.Min(pr.Match, CommitIndex);
            SendBeforePersist(new Heartbeat(Id, peer, Term, commit, round));
            pr.CommitSent = Math.Max(pr.CommitSent, commit);
        }
        return round;
    }

    private void DropLeaderReads()
    {
        foreach (var r in _readsAtLeader.Where(r => r.From == Id)) _readsDropped.Add(r.RequestId);
        _readsAtLeader.Clear();
    }

    private void DropForwardedReads()
    {
        _readsDropped.AddRange(_readsForwarded);
        _readsForwarded.Clear();
    }
}
