using System.Collections.Immutable;
using DistSysActors.Core.Protocol;
using DistSysActors.Core.Quorum;
using static DistSysActors.Core.Paxos.MultiPaxos;

namespace DistSysActors.Core.Paxos;

/// <summary>
/// One Multi-Paxos node: acceptor (MultiPaxosNode.Acceptor.cs), proposer/leader (MultiPaxosNode.Leader.cs) and learner
/// (MultiPaxosNode.Learner.cs) over a log of slots, with linearizable reads (MultiPaxosNode.Reads.cs). A pure core:
/// messages and local requests come in through <see cref="Step"/>, <see cref="Propose"/>, <see cref="ReadIndex"/> and
/// <see cref="Compact"/>, time through <see cref="Tick"/>; effects leave through the Ready (persist, then send, then
/// apply and answer). A role's message to its own node is handed to the local role at once.
/// </summary>
/// <remarks>
/// Durability: the acceptor's promise and acceptances and the proposer's round are written before any message that
/// reveals them. Accepts leave before the leader's own write (they promise nothing about its disk); its own acceptance
/// counts toward a decision made in a later Ready, which is taken only once this one's writes are durable.
/// The learner keeps no journal of its own: decided slots come back after a restart from the snapshot, from Accepts
/// and heartbeats of the leader, from catch-up, or from the next leader's phase 1.
/// </remarks>
public sealed partial class MultiPaxosNode : IProtocolCore<Message, ProtocolReady<Message>>
{
    private readonly MultiPaxosConfig _config;
    private readonly ImmutableArray<NodeId> _peers;
    private readonly MajorityQuorum _quorum;
    private readonly DeterministicRandom _random;
    private readonly ReadyBuffer<Message> _ready = new();
    private readonly Queue<Message> _local = new();
    private readonly List<byte[]> _forward = [];
    private readonly List<string> _violations = [];
    private long _nowMs;

    /// <param name="state">What the node persisted (a snapshot of its state), then <paramref name="journal"/>: the records after it, oldest first.</param>
    public MultiPaxosNode(MultiPaxosConfig config, DeterministicRandom random, PersistentState? state = null, IEnumerable<object>? journal = null, long nowMs = 0)
    {
        var errors = config.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(config));
        _config = config;
        _random = random;
        _quorum = new MajorityQuorum(config.Nodes);
        _peers = [.. config.Nodes.Where(n => n != config.Id).Order()];
        Restore(state ?? PersistentState.Empty);
        foreach (var record in journal ?? []) Replay(record);
        _nowMs = nowMs;
        // A restarted acceptor may have answered a leader's heartbeat just before it crashed: it refuses other proposers
        // for a whole election timeout, as if it had heard that leader now, so the leader's lease holds across the restart.
        _stickyUntilMs = nowMs + config.ElectionTimeoutMs;
        ResetElectionTimer(nowMs);
    }

    public NodeId Id => _config.Id;
    public MultiPaxosConfig Config => _config;
    public Role Role { get; private set; } = Role.Follower;
    public NodeId? LeaderId { get; private set; }
    public bool IsLeader => Role == Role.Leader;

    public Status GetStatus() => new(Role, Role == Role.Follower ? LeaderBallot : _ballot, LeaderId, DecidedThrough + 1, LastDecidedSlot, AppliedThrough,
        Snapshot?.Slot ?? 0, _accepted.Count, _inflight.Count, Promised);

    /// <summary>Everything needed to recover without the journal before it (for a host's snapshot).</summary>
    public PersistentState CurrentState() => new(Promised, _roundUsed, Snapshot, [.. _accepted.Values]);

    private void Restore(PersistentState state)
    {
        Promised = state.Promised;
        _roundUsed = state.RoundUsed;
        if (state.Snapshot is { } snapshot) RestoreSnapshot(snapshot);
        foreach (var a in state.Accepted)
            if (a.Slot > CompactedThrough) _accepted[a.Slot] = a;
    }

    /// <summary>Replays one journal record (recovery).</summary>
    private void Replay(object record)
    {
        switch (record)
        {
            case PromisedRecord p: Promised = Ballot.Max(Promised, p.Promised); break;
            case RoundRecord r: _roundUsed = Math.Max(_roundUsed, r.Round); break;
            case AcceptedRecord a:
                Promised = Ballot.Max(Promised, a.Ballot);
                for (var i = 0; i < a.Commands.Length; i++)
                {
                    var slot = a.FirstSlot + i;
                    if (slot > CompactedThrough) _accepted[slot] = new AcceptedSlot(slot, a.Ballot, a.Commands[i]);
                }
                break;
            case SnapshotRecord s when s.Snapshot.Slot > CompactedThrough: RestoreSnapshot(s.Snapshot); break;
            case PersistentState full: Restore(full); break;
        }
    }

    // ------------------------------------------------------------------ inputs

    public void Step(Message message, long nowMs)
    {
        _nowMs = nowMs;
        Dispatch(message);
        RunLocal();
    }

    public void Tick(long nowMs)
    {
        _nowMs = nowMs;
        if (Role == Role.Leader) LeaderTick();
        else if (nowMs >= _electionDeadlineMs) Campaign();
        // A gap below slots known decided (or compacted by a peer) is asked for again until filled: a lost request or
        // reply must not leave this node unable to apply for good.
        if (LastDecidedSlot > DecidedThrough || (Role == Role.Leader && _peersCompactedThrough > DecidedThrough))
            RequestCatchUp(Role == Role.Leader ? null : LeaderId);
        ExpireReads();
        RunLocal();
    }

    /// <summary>Starts phase 1 now (tests use it to pick the leader).</summary>
    public void Campaign(long nowMs)
    {
        _nowMs = nowMs;
        Campaign();
        RunLocal();
    }

    private void Dispatch(Message message)
    {
        switch (message)
        {
            case Prepare m: OnPrepare(m); break;
            case Accept m: OnAccept(m); break;
            case Heartbeat m: OnHeartbeat(m); break;
            case Promise m: OnPromise(m); break;
            case Accepted m: OnAccepted(m); break;
            case Rejected m: OnRejected(m); break;
            case HeartbeatAck m: OnHeartbeatAck(m); break;
            case CatchUpRequest m: OnCatchUpRequest(m); break;
            case CatchUpReply m: OnCatchUpReply(m); break;
            case Forward m: OnForward(m); break;
            case ReadRequest m: OnReadRequest(m); break;
            case ReadReply m: OnReadReply(m); break;
        }
    }

    private void RunLocal()
    {
        while (_local.TryDequeue(out var message)) Dispatch(message);
    }

    private void Send(NodeId to, Message message)
    {
        if (to == Id) _local.Enqueue(message);
        else _ready.Send(to, message);
    }

    private void Broadcast(Message message)
    {
        foreach (var peer in _peers) _ready.Send(peer, message);
    }

    // ------------------------------------------------------------------ Ready

    public bool HasReady => !_ready.WritesInFlight
        && (_ready.HasReady || _forward.Count > 0 || _acceptBatch.Count > 0 || ((_readWantsRound || _announceDecided) && Role == Role.Leader));

    public ProtocolReady<Message> TakeReady()
    {
        var accepts = _acceptBatch.Count > 0;
        FlushAcceptBatch();
        FlushForwards();
        if ((_readWantsRound || (_announceDecided && !accepts)) && Role == Role.Leader) SendHeartbeat();
        _announceDecided = false;
        return _ready.Take();
    }

    public void Advance(ProtocolReady<Message> ready) => _ready.Advance(ready);

    private void FlushForwards()
    {
        if (_forward.Count == 0) return;
        if (LeaderId is { } leader && leader != Id) _ready.Send(leader, new Forward(Id, [.. _forward]));
        _forward.Clear();
    }

    public IReadOnlyList<string> CheckInvariants()
    {
        var errors = new List<string>(_violations);
        foreach (var a in _accepted.Values)
        {
            if (a.Ballot > Promised) { errors.Add($"node {Id}: slot {a.Slot} accepted at {a.Ballot} above the promise {Promised}"); break; }
        }
        if (AppliedThrough != DecidedThrough) errors.Add($"node {Id}: applied through {AppliedThrough}, decided through {DecidedThrough}");
        if (Role == Role.Leader && _ballot.Node != Id) errors.Add($"node {Id}: leads with another node's ballot {_ballot}");
        return errors;
    }
}
