using static DistSysActors.Core.Paxos.MultiPaxos;

namespace DistSysActors.Core.Paxos;

/// <summary>
/// Linearizable reads, as Raft's ReadIndex (dissertation 6.4): the read point is the last slot the leader has proposed
/// (every write acknowledged before the read is at or below it), confirmed by a heartbeat round a majority answers
/// after the read arrived, or by the leader's lease; the read is served once that slot is applied.
/// </summary>
public sealed partial class MultiPaxosNode
{
    private const int RoundsRemembered = 64;
    private long _heartbeatRound;
    private readonly SortedDictionary<long, long> _roundSentAtMs = new();
    private readonly Dictionary<NodeId, long> _ackedRound = [];
    private long _lastQuorumAckMs;
    private long _leaseUntilMs = NeverMs;
    private bool _readWantsRound;
    private readonly List<LeaderRead> _leaderReads = [];
    private readonly SortedDictionary<long, long> _remoteReads = new();
    private readonly List<ApplyWait> _applyWaits = [];

    private sealed record LeaderRead(long RequestId, NodeId Origin, long RequiredRound, long Slot, long DeadlineMs);

    private sealed record ApplyWait(long RequestId, long Slot, long DeadlineMs);

    /// <summary>Reads waiting here (for confirmation, for the leader's answer, or for their slot to be applied).</summary>
    public int ReadsPending => _leaderReads.Count(r => r.Origin == Id) + _remoteReads.Count + _applyWaits.Count;

    /// <summary>Whether this leader's lease holds now.</summary>
    public bool LeaseHeld(long nowMs) => Role == Role.Leader && nowMs < _leaseUntilMs;

    /// <summary>Asks for a linearizable read point; answered <see cref="ReadReady"/> or <see cref="ReadDropped"/>.</summary>
    public void ReadIndex(long requestId, bool lease, long nowMs)
    {
        _nowMs = nowMs;
        var deadline = nowMs + _config.ReadTimeoutMs;
        if (ReadsPending >= _config.ReadsPendingMax) _ready.Answer(new ReadDropped(requestId));
        else if (Role == Role.Leader) LeaderReadIndex(requestId, Id, lease);
        else if (LeaderId is { } leader && leader != Id)
        {
            _remoteReads[requestId] = deadline;
            Send(leader, new ReadRequest(Id, requestId, lease));
        }
        else _ready.Answer(new ReadDropped(requestId));
        RunLocal();
    }

    private void OnReadRequest(ReadRequest m)
    {
        if (Role == Role.Leader && _leaderReads.Count < _config.ReadsPendingMax) LeaderReadIndex(m.RequestId, m.From, m.Lease);
    }

    private void LeaderReadIndex(long requestId, NodeId origin, bool lease)
    {
        var slot = _nextSlot - 1;
        if (lease && LeaseHeld(_nowMs))
        {
            ReadConfirmed(requestId, origin, slot);
            return;
        }
        _leaderReads.Add(new LeaderRead(requestId, origin, _heartbeatRound + 1, slot, _nowMs + _config.ReadTimeoutMs));
        if (_peers.IsEmpty) SendHeartbeat();
        else _readWantsRound = true;
    }

    private void ReadConfirmed(long requestId, NodeId origin, long slot)
    {
        if (origin == Id)
        {
            _applyWaits.Add(new ApplyWait(requestId, slot, _nowMs + _config.ReadTimeoutMs));
            ServeReads();
        }
        else _ready.Send(origin, new ReadReply(Id, requestId, slot));
    }

    private void OnReadReply(ReadReply m)
    {
        if (!_remoteReads.Remove(m.RequestId, out var deadline)) return;
        _applyWaits.Add(new ApplyWait(m.RequestId, m.Slot, deadline));
        ServeReads();
    }

    private void SendHeartbeat()
    {
        _readWantsRound = false;
        var round = ++_heartbeatRound;
        _roundSentAtMs[round] = _nowMs;
        while (_roundSentAtMs.Count > RoundsRemembered) _roundSentAtMs.Remove(_roundSentAtMs.Keys.First());
        _heartbeatDueMs = _nowMs + _config.HeartbeatIntervalMs;
        Broadcast(new Heartbeat(Id, _ballot, DecidedThrough, round));
        ConfirmRounds();
    }

    private void OnHeartbeatAck(HeartbeatAck m)
    {
        if (Role != Role.Leader || m.Ballot != _ballot) return;
        if (_ackedRound.GetValueOrDefault(m.From) >= m.Round) return;
        _ackedRound[m.From] = m.Round;
        ConfirmRounds();
    }

    /// <summary>The highest heartbeat round a majority (this leader included) answered: confirms reads, extends the lease.</summary>
    private void ConfirmRounds()
    {
        var rounds = new List<long>(_config.Nodes.Length) { _heartbeatRound };
        foreach (var peer in _peers) rounds.Add(_ackedRound.GetValueOrDefault(peer));
        rounds.Sort();
        var quorumRound = rounds[rounds.Count - _quorum.Size];
        if (quorumRound == 0 || !_roundSentAtMs.TryGetValue(quorumRound, out var sentAt)) return;
        _lastQuorumAckMs = Math.Max(_lastQuorumAckMs, sentAt);
        // A leader a majority follows refuses other proposers' Prepares as its followers do (leader stickiness).
        _stickyUntilMs = Math.Max(_stickyUntilMs, sentAt + _config.ElectionTimeoutMs);
        _leaseUntilMs = Math.Max(_leaseUntilMs, sentAt + _config.ElectionTimeoutMs - _config.LeaseDriftMs);
        for (var i = 0; i < _leaderReads.Count; i++)
        {
            var read = _leaderReads[i];
            if (read.RequiredRound > quorumRound) continue;
            _leaderReads.RemoveAt(i--);
            ReadConfirmed(read.RequestId, read.Origin, read.Slot);
        }
    }

    private void ServeReads()
    {
        for (var i = 0; i < _applyWaits.Count; i++)
        {
            var wait = _applyWaits[i];
            if (AppliedThrough < wait.Slot) continue;
            _applyWaits.RemoveAt(i--);
            _ready.Answer(new ReadReady(wait.RequestId, wait.Slot));
        }
    }

    private void ExpireReads()
    {
        if (_readWantsRound && Role == Role.Leader) SendHeartbeat();
        for (var i = 0; i < _leaderReads.Count; i++)
        {
            if (_leaderReads[i].DeadlineMs > _nowMs) continue;
            if (_leaderReads[i].Origin == Id) _ready.Answer(new ReadDropped(_leaderReads[i].RequestId));
            _leaderReads.RemoveAt(i--);
        }
        foreach (var (id, deadline) in _remoteReads.ToArray())
        {
            if (deadline > _nowMs) continue;
            _remoteReads.Remove(id);
            _ready.Answer(new ReadDropped(id));
        }
        for (var i = 0; i < _applyWaits.Count; i++)
        {
            if (_applyWaits[i].DeadlineMs > _nowMs) continue;
            _ready.Answer(new ReadDropped(_applyWaits[i].RequestId));
            _applyWaits.RemoveAt(i--);
        }
    }

    private void DropLeaderReads()
    {
        foreach (var read in _leaderReads.Where(r => r.Origin == Id)) _ready.Answer(new ReadDropped(read.RequestId));
        _leaderReads.Clear();
        _ackedRound.Clear();
        _leaseUntilMs = NeverMs;
    }

    private void DropRemoteReads()
    {
        foreach (var id in _remoteReads.Keys) _ready.Answer(new ReadDropped(id));
        _remoteReads.Clear();
    }
}
