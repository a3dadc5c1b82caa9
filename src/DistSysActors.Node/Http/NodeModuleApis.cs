using Akka.Actor;
using DistSysActors.Core.Ping;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.FailureDetection;
using DistSysActors.Actors.Modules;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Paxos;
using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.Ping;
using DistSysActors.Actors.Raft;

namespace DistSysActors.Node.Http;

/// <summary>The HTTP parts of the node's modules, in the order their fields appear in <c>/status</c>.</summary>
public static class NodeModuleApis
{
    public static IReadOnlyList<NodeModuleApi> All { get; } =
        [
            new IncarnationApi(), new NetworkApi(), new PingApi(), new RaftApi(), new ReplicationApi(), new PaxosApi(), new FailureDetectorApi(), new ClockApi(),
            new GossipApi(), new ApStoreApi(),
            new TxnApi(),
            new ElectionApi(),
            new LoggingApi(),
        ];
}

/// <summary><c>incarnation</c>: how many times this node has started, from its journal.</summary>
public sealed class IncarnationApi : NodeModuleApi
{
    public override string ModuleName => new IncarnationModule().Name;
    public override string StatusField => "incarnation";

    public override async Task<object?> StatusAsync(ModuleAsks asks) =>
        (await asks.AskAsync<IncarnationActor.Incarnation>(ModuleName, IncarnationActor.GetIncarnation.Instance))?.Number;
}

/// <summary><c>network</c>: the fault spec in force, its seed and the network component's counters.</summary>
public sealed class NetworkApi : NodeModuleApi
{
    public override string ModuleName => new NetworkModule().Name;
    public override string StatusField => "network";

    public override async Task<object?> StatusAsync(ModuleAsks asks)
    {
        if (await asks.AskAsync<NetworkProtocol.NetworkStatus>(ModuleName, NetworkProtocol.GetStatus.Instance) is not { } n) return null;
        var c = n.Sent;
        return new NetworkDto(FaultSpecDto.From(n.Spec), n.Seed, new NetworkCountersDto(
            c.Sent, c.Delivered, c.DroppedByPartition, c.Dropped, c.Delayed, c.Duplicated,
            n.ReceivedDelivered, n.ReceivedDroppedByPartition, n.Unroutable, n.OverflowDropped, n.DelayedNow));
    }
}

/// <summary><c>ping</c>: per peer, pings out and in, pongs and the last round trip.</summary>
public sealed class PingApi : NodeModuleApi
{
    public override string ModuleName => new PingModule().Name;
    public override string StatusField => "ping";

    public override async Task<object?> StatusAsync(ModuleAsks asks) =>
        (await asks.AskAsync<PingProtocol.Stats>(ModuleName, PingProtocol.GetStats.Instance))?.Peers
            .Select(p => new PingPeerDto(p.Key.Value, p.Value.PingsSent, p.Value.PingsReceived, p.Value.PongsReceived, p.Value.LastRttMs, p.Value.LastPongAgeMs))
            .ToList();
}

/// <summary><c>raft</c>: role, term, leader, log and membership; ready when a leader is known.</summary>
public sealed class RaftApi : NodeModuleApi
{
    public override string ModuleName => new RaftModule().Name;
    public override string StatusField => "raft";

    public static Task<RaftProtocol.NodeStatus?> NodeStatusAsync(ModuleAsks asks) =>
        asks.AskAsync<RaftProtocol.NodeStatus>(new RaftModule().Name, RaftProtocol.GetStatus.Instance);

    public override async Task<object?> StatusAsync(ModuleAsks asks) =>
        await NodeStatusAsync(asks) is { Raft: var r } status
            ? new RaftDto(r.Role.ToString(), r.Term, r.LeaderId?.Value, r.CommitIndex, r.AppliedIndex, r.LastLogIndex,
                r.SnapshotIndex, r.SnapshotIndex + 1,
                r.Membership?.Voters.Select(v => v.Value).ToArray() ?? [], r.Membership?.Learners.Select(l => l.Value).ToArray() ?? [],
                status.Group)
            : null;

    public override async Task AddReadinessChecksAsync(ModuleAsks asks, IDictionary<string, string> checks)
    {
        try
        {
            checks["raftLeader"] = (await NodeStatusAsync(asks))?.Raft.LeaderId is { } leader ? $"ok ({leader.Value})" : "failed: this node knows no Raft leader";
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            checks["raftLeader"] = "failed: the Raft actor did not answer in time (recovering?)";
        }
    }
}

/// <summary>
/// <c>replication</c>: replication lag as this node sees it, like PostgreSQL's pg_stat_replication: on the leader one
/// entry per follower in <c>replicas</c>; on every node its own applied index and lag. From the Raft replica's status.
/// </summary>
public sealed class ReplicationApi : NodeModuleApi
{
    public override string ModuleName => new RaftModule().Name;
    public override string StatusField => "replication";

    public override async Task<object?> StatusAsync(ModuleAsks asks) =>
        (await RaftApi.NodeStatusAsync(asks))?.Replication is { } r ? ReplicationDto.From(r) : null;
}

/// <summary>
/// <c>paxos</c>: the Multi-Paxos replica serving /kv when distsys.kv.consensus = paxos (role, ballot, leader, first
/// undecided and last decided slot); ready once it knows a leader.
/// </summary>
public sealed class PaxosApi : NodeModuleApi
{
    public override string ModuleName => new MultiPaxosModule().Name;
    public override string StatusField => "paxos";

    public static Task<PaxosProtocol.ReplicaStatus?> ReplicaStatusAsync(ModuleAsks asks) =>
        asks.AskAsync<PaxosProtocol.ReplicaStatus>(new MultiPaxosModule().Name, PaxosProtocol.GetStatus.Instance);

    public override async Task<object?> StatusAsync(ModuleAsks asks) =>
        await ReplicaStatusAsync(asks) is { Paxos: var p }
            ? new PaxosDto(p.Role.ToString(), p.Ballot.ToString(), p.LeaderId?.Value, p.FirstUnchosenSlot, p.LastDecidedSlot, p.AppliedSlot, p.SnapshotSlot, p.Promised.ToString())
            : null;

    public override async Task AddReadinessChecksAsync(ModuleAsks asks, IDictionary<string, string> checks)
    {
        try
        {
            checks["paxosLeader"] = (await ReplicaStatusAsync(asks))?.Paxos.LeaderId is { } leader ? $"ok ({leader.Value})" : "failed: this node knows no Multi-Paxos leader";
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            checks["paxosLeader"] = "failed: the Multi-Paxos actor did not answer in time (recovering?)";
        }
    }
}

/// <summary>
/// <c>failureDetector</c>: our detector's view of each monitored peer beside Akka.Cluster's; ready when a quorum is
/// reachable — of the Raft voters once Raft knows its membership (servers may have been added and removed), else of the N nodes.
/// </summary>
public sealed class FailureDetectorApi : NodeModuleApi
{
    public override string ModuleName => new FailureDetectorModule().Name;
    public override string StatusField => "failureDetector";

    public override async Task<object?> StatusAsync(ModuleAsks asks) =>
        await asks.AskAsync<HeartbeatProtocol.DetectorStatus>(ModuleName, HeartbeatProtocol.GetStatus.Instance) is { } status
            ? FailureDetectorDto.From(status, asks.Runtime)
            : null;

    public override async Task AddReadinessChecksAsync(ModuleAsks asks, IDictionary<string, string> checks)
    {
        var runtime = asks.Runtime;
        try
        {
            var fd = (FailureDetectorDto)(await StatusAsync(asks))!;
            var voters = await VotersAsync(asks);
            if (voters is { Length: > 0 })
            {
                var reachable = FailureDetectorDto.ReachableAmong(voters, fd, runtime);
                var quorum = voters.Length / 2 + 1;
                checks["quorumReachable"] = reachable >= quorum
                    ? $"ok ({reachable}/{voters.Length} Raft voters)"
                    : $"failed: {reachable}/{voters.Length} Raft voters reachable, a quorum needs {quorum}";
            }
            else
            {
                var quorum = runtime.Node.Nodes / 2 + 1;
                checks["quorumReachable"] = fd.ReachableCount >= quorum
                    ? $"ok ({fd.ReachableCount}/{runtime.Node.Nodes})"
                    : $"failed: {fd.ReachableCount}/{runtime.Node.Nodes} reachable, a quorum needs {quorum}";
            }
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            checks["quorumReachable"] = "failed: the heartbeat actor did not answer in time";
        }
    }

    public override void AddReadinessChecksWhenOff(IDictionary<string, string> checks) =>
        checks["quorumReachable"] = "skipped (distsys.failure-detector.enabled = off)";

    private static async Task<int[]?> VotersAsync(ModuleAsks asks)
    {
        try { return (await RaftApi.NodeStatusAsync(asks))?.Raft.Membership?.Voters.Select(v => v.Value).ToArray(); }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException) { return null; }
    }
}

/// <summary><c>clock</c>: injected skew, estimated offset to the reference, corrected clock and HLC.</summary>
public sealed class ClockApi : NodeModuleApi
{
    public override string ModuleName => new ClockModule().Name;
    public override string StatusField => "clock";

    public override async Task<object?> StatusAsync(ModuleAsks asks) =>
        await asks.AskAsync<ClockProtocol.ClockStatus>(ModuleName, ClockProtocol.GetStatus.Instance) is { } status ? ClockDtos.From(status) : null;
}
