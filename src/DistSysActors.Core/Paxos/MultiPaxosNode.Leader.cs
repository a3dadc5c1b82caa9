using System.Collections.Immutable;
using static DistSysActors.Core.Paxos.MultiPaxos;

namespace DistSysActors.Core.Paxos;

/// <summary>The proposer: campaigning (phase 1 for all future slots), leading (phase 2 per command), stepping down.</summary>
public sealed partial class MultiPaxosNode
{
    private long _roundUsed;
    private long _roundSeen;
    // This node's own ballot while it campaigns or leads.
    private Ballot _ballot = Ballot.Zero;
    private long _electionDeadlineMs;
    private long _heartbeatDueMs;
    // Campaign: promises and, per slot, the highest-ballot acceptance they reported.
    private readonly HashSet<NodeId> _promises = [];
    private readonly SortedDictionary<long, AcceptedSlot> _collected = new();
    private long _prepareFromSlot;
    private long _peersCompactedThrough;
    // Leading: the next free slot and the proposed, undecided ones.
    private long _nextSlot = 1;
    private readonly SortedDictionary<long, InflightSlot> _inflight = new();
    // Slots proposed in this call, sent as one Accept when the Ready is taken.
    private readonly List<(long Slot, byte[]? Command)> _acceptBatch = [];

    /// <summary>The ballot of the leader this node follows (or its own while it leads).</summary>
    public Ballot LeaderBallot { get; private set; } = Ballot.Zero;

    /// <summary>Phase 1 rounds this node started (over this incarnation).</summary>
    public long Campaigns { get; private set; }

    private sealed class InflightSlot(byte[]? command, long sentAtMs)
    {
        public byte[]? Command { get; } = command;
        public HashSet<NodeId> Acks { get; } = [];
        public long SentAtMs { get; set; } = sentAtMs;
    }

    /// <summary>
    /// Proposes a command. A leader assigns it the next slot (phase 2 only); a follower passes it on to the leader it
    /// knows; without one it is dropped.
    /// </summary>
    public ProposeResult Propose(byte[] command, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(command);
        _nowMs = nowMs;
        if (Role == Role.Leader)
        {
            if (_inflight.Count >= _config.InflightSlotsMax) return new ProposeResult(ProposeStatus.Dropped, 0, Id, $"{_config.InflightSlotsMax} slots in flight");
            var slot = ProposeAt(_nextSlot++, command);
            RunLocal();
            return new ProposeResult(ProposeStatus.Proposed, slot, Id);
        }
        if (LeaderId is { } leader && leader != Id)
        {
            _forward.Add(command);
            return new ProposeResult(ProposeStatus.Forwarded, 0, leader);
        }
        return new ProposeResult(ProposeStatus.Dropped, 0, null, "no leader known");
    }

    private void OnForward(Forward m)
    {
        if (Role != Role.Leader) return; // the follower's service proposes again once it learns the new leader
        foreach (var command in m.Commands)
        {
            if (_inflight.Count >= _config.InflightSlotsMax) return;
            ProposeAt(_nextSlot++, command);
        }
    }

    private long ProposeAt(long slot, byte[]? command)
    {
        _inflight[slot] = new InflightSlot(command, _nowMs);
        _acceptBatch.Add((slot, command));
        return slot;
    }

    /// <summary>Sends the slots proposed since the last Ready as contiguous Accepts, to every node (this one locally).</summary>
    private void FlushAcceptBatch()
    {
        if (_acceptBatch.Count == 0) return;
        var i = 0;
        while (i < _acceptBatch.Count)
        {
            var first = _acceptBatch[i].Slot;
            var commands = ImmutableArray.CreateBuilder<byte[]?>();
            while (i < _acceptBatch.Count && _acceptBatch[i].Slot == first + commands.Count && commands.Count < _config.AcceptBatchMax)
                commands.Add(_acceptBatch[i++].Command);
            var accept = new Accept(Id, _ballot, first, commands.ToImmutable(), DecidedThrough);
            // The Accept promises nothing about this node's disk: it leaves while the leader's own acceptance is written.
            foreach (var peer in _peers) _ready.SendBeforePersist(peer, accept);
            _local.Enqueue(accept);
        }
        _acceptBatch.Clear();
        RunLocal();
    }

    private void Campaign()
    {
        var round = Math.Max(Math.Max(_roundUsed, _roundSeen), Math.Max(Promised.Round, LeaderBallot.Round)) + 1;
        _roundUsed = round;
        _ready.Persist(new RoundRecord(round));
        StepDown(null, Ballot.Zero);
        if (LeaderId is not null) SetLeader(null, Ballot.Zero);
        Role = Role.Candidate;
        _ballot = new Ballot(round, Id);
        Campaigns++;
        _promises.Clear();
        _collected.Clear();
        _prepareFromSlot = DecidedThrough + 1;
        _peersCompactedThrough = 0;
        ResetElectionTimer(_nowMs);
        var prepare = new Prepare(Id, _ballot, _prepareFromSlot);
        Broadcast(prepare);
        _local.Enqueue(prepare);
    }

    private void OnPromise(Promise m)
    {
        if (Role != Role.Candidate || m.Ballot != _ballot || !_promises.Add(m.From)) return;
        _peersCompactedThrough = Math.Max(_peersCompactedThrough, m.CompactedThrough);
        foreach (var a in m.Accepted)
            if (!_collected.TryGetValue(a.Slot, out var had) || a.Ballot > had.Ballot) _collected[a.Slot] = a;
        if (_quorum.IsQuorum(_promises)) BecomeLeader();
    }

    /// <summary>
    /// Phase 1 won: every slot from the first undecided one to the highest any promise reported is proposed again at
    /// this ballot with the highest-ballot command reported for it, or a no-op where none was (a hole). Slots a peer
    /// compacted are decided: they are learned by catch-up, never proposed into.
    /// </summary>
    private void BecomeLeader()
    {
        Role = Role.Leader;
        SetLeader(Id, _ballot);
        var from = Math.Max(Math.Max(_prepareFromSlot, DecidedThrough + 1), _peersCompactedThrough + 1);
        var last = Math.Max(from - 1, _collected.Count == 0 ? 0 : _collected.Keys.Last());
        if (_peersCompactedThrough > DecidedThrough) RequestCatchUp(null);
        for (var slot = from; slot <= last; slot++)
            ProposeAt(slot, _collected.TryGetValue(slot, out var a) ? a.Command : null);
        _nextSlot = Math.Max(last, _peersCompactedThrough) + 1;
        _collected.Clear();
        _lastQuorumAckMs = _nowMs;
        _heartbeatDueMs = _nowMs; // announce at once
        LeaderTick();
    }

    private void OnAccepted(Accepted m)
    {
        if (Role != Role.Leader || m.Ballot != _ballot) return;
        for (var slot = m.FirstSlot; slot <= m.LastSlot; slot++)
        {
            if (!_inflight.TryGetValue(slot, out var f) || !f.Acks.Add(m.From) || !_quorum.IsQuorum(f.Acks)) continue;
            _inflight.Remove(slot);
            Decide(slot, f.Command);
            _announceDecided = true;
        }
    }

    // Slots were decided since the last message that carried DecidedThrough: announce them with the next Ready
    // (in the next Accept if one leaves then, else in a heartbeat), so followers apply without waiting for a heartbeat.
    private bool _announceDecided;

    private void OnRejected(Rejected m)
    {
        _roundSeen = Math.Max(_roundSeen, m.Promised.Round);
        if (Role == Role.Follower || m.Ballot != _ballot || m.Promised <= _ballot) return;
        if (Role == Role.Leader && _nowMs - _lastQuorumAckMs <= _config.ElectionTimeoutMs)
        {
            // A node promised a higher ballot (a candidate that heard no leader, e.g. after a partition) and refuses us,
            // yet a majority still follows: run phase 1 again above it rather than leave the cluster leaderless while
            // that candidate, ignored by the followers of a live leader, cannot win.
            Campaign();
            return;
        }
        StepDown(null, Ballot.Zero);
        ResetElectionTimer(_nowMs);
    }

    private void LeaderTick()
    {
        if (_nowMs - _lastQuorumAckMs > _config.ElectionTimeoutMs)
        {
            // CheckQuorum: no majority has answered for an election timeout; stop serving as leader.
            StepDown(null, Ballot.Zero);
            ResetElectionTimer(_nowMs);
            return;
        }
        if (_nowMs >= _heartbeatDueMs) SendHeartbeat();
        Retransmit();
    }

    private void Retransmit()
    {
        long? runFirst = null;
        var run = ImmutableArray.CreateBuilder<byte[]?>();
        void FlushRun()
        {
            if (runFirst is { } first && run.Count > 0) Broadcast(new Accept(Id, _ballot, first, run.ToImmutable(), DecidedThrough));
            run.Clear();
            runFirst = null;
        }
        foreach (var (slot, f) in _inflight)
        {
            if (_nowMs - f.SentAtMs < _config.RetransmitMs) { FlushRun(); continue; }
            f.SentAtMs = _nowMs;
            if (runFirst is { } start && (slot != start + run.Count || run.Count >= _config.AcceptBatchMax)) FlushRun();
            runFirst ??= slot;
            run.Add(f.Command);
        }
        FlushRun();
    }

    /// <summary>Heard a leader at <paramref name="ballot"/> (an Accept or heartbeat it could not refuse).</summary>
    private void HeardLeader(NodeId leader, Ballot ballot)
    {
        _stickyUntilMs = _nowMs + _config.ElectionTimeoutMs;
        ResetElectionTimer(_nowMs);
        if (Role != Role.Follower && (leader != Id || ballot != _ballot)) StepDown(null, Ballot.Zero);
        if (LeaderId != leader || LeaderBallot != ballot) SetLeader(leader, ballot);
    }

    /// <summary>This acceptor promised a higher ballot to another proposer: a campaign or leadership of ours is over.</summary>
    private void FollowerOfHigherBallot(Ballot ballot)
    {
        _roundSeen = Math.Max(_roundSeen, ballot.Round);
        if (Role != Role.Follower && ballot > _ballot) StepDown(null, Ballot.Zero);
    }

    private void StepDown(NodeId? leader, Ballot ballot)
    {
        var wasLeader = Role == Role.Leader;
        Role = Role.Follower;
        _promises.Clear();
        _collected.Clear();
        _inflight.Clear();
        _acceptBatch.Clear();
        if (wasLeader) DropLeaderReads();
        if (LeaderId == Id || leader is not null) SetLeader(leader, ballot);
    }

    private void SetLeader(NodeId? leader, Ballot ballot)
    {
        LeaderId = leader;
        LeaderBallot = ballot;
        if (leader is null) DropRemoteReads();
        _ready.Answer(new LeaderChanged(leader, ballot, leader == Id));
    }

    private void ResetElectionTimer(long nowMs) =>
        _electionDeadlineMs = nowMs + _config.ElectionTimeoutMs + _random.NextInt(0, _config.ElectionTimeoutMs);
}
