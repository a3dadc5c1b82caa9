using Akka.Actor;
using Akka.Cluster;
using DistSysActors.Actors.Election;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Core.Election;

namespace DistSysActors.Node.Http;

/// <summary>
/// <c>election</c> in <c>/status</c>: the three leaders a node can name. <c>bully</c>: this node's Bully state and the
/// coordinator it follows; <c>leases</c>: the live leases of the replicated key-value store as this replica has applied
/// them; <c>akka</c>: Akka.Cluster's leader and the node that would host a Cluster Singleton (the oldest Up member),
/// both a deterministic function of the membership this node sees: not consensus, so each side of a partition names
/// its own until the Split Brain Resolver downs one side.
/// </summary>
public sealed class ElectionApi : NodeModuleApi
{
    public override string ModuleName => new BullyModule().Name;
    public override string StatusField => "election";

    public override async Task<object?> StatusAsync(ModuleAsks asks)
    {
        var bully = await asks.AskAsync<BullyProtocol.Status>(ModuleName, BullyProtocol.GetStatus.Instance);
        List<LeaseHolderDto>? leases = null;
        if (asks.Runtime.KvReplica is { } kv)
        {
            try
            {
                var held = await kv.Ask<ElectionProtocol.Leases>(ElectionProtocol.GetLeases.Instance, asks.Timeout);
                leases = [.. held.Held.Select(l => new LeaseHolderDto(l.Name, System.Text.Json.Nodes.JsonNode.Parse(l.Lease.Holder), l.Lease.Token, l.Lease.ExpiresInMs))];
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException) { }
        }
        return new ElectionStatusDto(
            bully is null ? null : new BullyStatusDto(bully.State.ToString(), bully.LeaderId?.Value, bully.ElectionsStarted),
            leases,
            AkkaLeader(asks.Runtime.System));
    }

    /// <summary>Akka.Cluster's leader and singleton host in this node's view of the membership.</summary>
    public static AkkaLeaderDto AkkaLeader(ActorSystem system)
    {
        var state = Cluster.Get(system).State;
        var leader = state.Leader is { } address ? state.Members.FirstOrDefault(m => m.Address == address) : null;
        var oldest = state.Members.Where(m => m.Status == MemberStatus.Up).OrderBy(m => m, Member.AgeOrdering).FirstOrDefault();
        return new AkkaLeaderDto(
            leader is null ? null : NodeHttpApi.NodeIdOf(leader),
            state.Leader?.ToString(),
            oldest is null ? null : NodeHttpApi.NodeIdOf(oldest),
            state.Unreachable.Select(NodeHttpApi.NodeIdOf).Where(id => id is not null).Select(id => id!.Value).Order().ToList());
    }
}

public sealed record ElectionStatusDto(BullyStatusDto? Bully, List<LeaseHolderDto>? Leases, AkkaLeaderDto Akka);

/// <summary>This node's Bully state (Starting, Electing, AwaitingCoordinator, Follower, Leader) and the coordinator it follows.</summary>
public sealed record BullyStatusDto(string State, int? LeaderId, long ElectionsStarted);

/// <summary>A live lease: its election's name, holder (as the candidate gave it), fencing token and TTL left.</summary>
public sealed record LeaseHolderDto(string Name, System.Text.Json.Nodes.JsonNode? Leader, long Token, long ExpiresInMs);

/// <summary>Akka.Cluster's leader and the Cluster Singleton's host (oldest Up member) in this node's view, and the members it sees unreachable.</summary>
public sealed record AkkaLeaderDto(int? LeaderId, string? LeaderAddress, int? SingletonNodeId, List<int> Unreachable);
