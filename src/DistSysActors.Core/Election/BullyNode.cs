using System.Collections.Immutable;
using DistSysActors.Core.Protocol;
using static DistSysActors.Core.Election.BullyProtocol;

namespace DistSysActors.Core.Election;

/// <summary>
/// The Bully election (Garcia-Molina 1982) as a pure core: the highest live id wins. A node that suspects the coordinator
/// (or starts, or recovers) sends Election to every higher id; a higher id that hears it answers and runs its own
/// election; a node that no higher id answers within <see cref="BullyConfig.AnswerTimeoutMs"/> declares itself
/// coordinator to everyone. A recovering higher id therefore takes over ("bullies") a lower coordinator.
/// </summary>
/// <remarks>
/// Safety rests on a synchronous network and a perfect failure detector (the paper's assumptions): with a partition,
/// each side elects its own highest id and two coordinators coexist. Nothing in the algorithm can prevent that, and
/// the simulation keeps it as a test. Nothing is persisted: a restarted node simply runs an election.
/// </remarks>
public sealed class BullyNode : IProtocolCore<BullyMessage, ProtocolReady<BullyMessage>>
{
    private readonly ReadyBuffer<BullyMessage> _ready = new();
    private readonly NodeId _self;
    private readonly ImmutableArray<NodeId> _peers;
    private readonly BullyConfig _config;
    private long _deadlineMs;
    private long _lastHeardMs;
    private long _nextHeartbeatMs;

    public BullyNode(NodeId self, IEnumerable<NodeId> members, BullyConfig? config = null)
    {
        _self = self;
        _peers = members.Where(p => p != self).Distinct().Order().ToImmutableArray();
        _config = config ?? BullyConfig.Default;
        _config.Validate();
    }

    public BullyState State { get; private set; } = BullyState.Starting;
    public NodeId? LeaderId { get; private set; }
    public long ElectionsStarted { get; private set; }
    public long? LeaderSinceMs { get; private set; }

    public Status GetStatus() => new(_self, State, LeaderId, ElectionsStarted, LeaderSinceMs, _peers);

    public void Tick(long nowMs)
    {
        switch (State)
        {
            case BullyState.Starting:
                StartElection(nowMs);
                break;
            case BullyState.Electing when nowMs >= _deadlineMs:
                BecomeLeader(nowMs); // no higher id answered: the highest live id is this one
                break;
            case BullyState.AwaitingCoordinator when nowMs >= _deadlineMs:
                StartElection(nowMs); // the higher id that answered died before announcing itself
                break;
            case BullyState.Follower when nowMs - _lastHeardMs >= _config.LeaderTimeoutMs:
                StartElection(nowMs);
                break;
            case BullyState.Leader when nowMs >= _nextHeartbeatMs:
                Announce(nowMs);
                break;
        }
    }

    public void Step(BullyMessage message, long nowMs)
    {
        if (message.From == _self || !_peers.Contains(message.From)) return;
        switch (message)
        {
            case BullyProtocol.Election e when e.From < _self:
                _ready.Send(e.From, new Answer(_self));
                if (State == BullyState.Leader) _ready.Send(e.From, new Coordinator(_self)); // still here: no new election needed
                else if (State is not BullyState.Electing) StartElection(nowMs);
                break;
            case Answer a when a.From > _self && State == BullyState.Electing:
                State = BullyState.AwaitingCoordinator;
                _deadlineMs = nowMs + _config.CoordinatorTimeoutMs;
                break;
            case Coordinator c when c.From > _self:
                if (LeaderId != c.From || State != BullyState.Follower) LeaderSinceMs = nowMs;
                State = BullyState.Follower;
                LeaderId = c.From;
                _lastHeardMs = nowMs;
                break;
            case Coordinator c when c.From < _self:
                // A lower id claims leadership while this one lives: bully it.
                if (State == BullyState.Leader) _ready.Send(c.From, new Coordinator(_self));
                else if (State is not (BullyState.Electing or BullyState.AwaitingCoordinator)) StartElection(nowMs);
                break;
        }
    }

    private void StartElection(long nowMs)
    {
        ElectionsStarted++;
        State = BullyState.Electing;
        LeaderId = null;
        LeaderSinceMs = null;
        var higher = _peers.Where(p => p > _self).ToList();
        if (higher.Count == 0)
        {
            BecomeLeader(nowMs);
            return;
        }
        foreach (var peer in higher) _ready.Send(peer, new BullyProtocol.Election(_self));
        _deadlineMs = nowMs + _config.AnswerTimeoutMs;
    }

    private void BecomeLeader(long nowMs)
    {
        State = BullyState.Leader;
        LeaderId = _self;
        LeaderSinceMs = nowMs;
        Announce(nowMs);
    }

    private void Announce(long nowMs)
    {
        foreach (var peer in _peers) _ready.Send(peer, new Coordinator(_self));
        _nextHeartbeatMs = nowMs + _config.HeartbeatIntervalMs;
    }

    public bool HasReady => _ready.HasReady;

    public ProtocolReady<BullyMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<BullyMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants()
    {
        var errors = new List<string>();
        if ((State == BullyState.Leader) != (LeaderId == _self)) errors.Add($"node {_self}: state {State} but leader {LeaderId}");
        if (State == BullyState.Follower && (LeaderId is not { } l || l <= _self)) errors.Add($"node {_self}: follows {LeaderId}, not a higher id");
        return errors;
    }
}
