using Akka.Actor;
using Akka.Cluster;
using DistSysActors.Actors.Election;
using DistSysActors.Actors.Election.Singleton;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Core.Election;

namespace DistSysActors.Node.Http;

/// <summary>
/// <c>election</c> in <c>/status</c>: the three leaders a node can name. <c>bully</c>: this node's Bully state and the
/// coordinator it follows; <c>leases</c>: the live leases of the replicated key-value store as this replica has applied
/// them; <c>akka</c>: Akka.Cluster's leader, a deterministic function of the membership this node sees (not consensus,
/// so each side of a partition names its own until the Split Brain Resolver downs one side), and the Cluster Singleton
/// as this node's proxy reaches it, with the instance this node hosts.
/// </summary>
public sealed class ElectionApi : NodeModuleApi
{
    public override string ModuleName => new BullyModule().Name;
    public override string StatusField => "election";

    public override async Task<object?> StatusAsync(ModuleAsks asks)
    {
        // Asked first: its answer may wait up to distsys.singleton.ask-timeout-ms for the proxy while the others answer.
        var singletonAsk = SingletonAsync(asks);
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
        var singleton = await singletonAsk;
        return new ElectionStatusDto(
            bully is null ? null : new BullyStatusDto(bully.State.ToString(), bully.LeaderId?.Value, bully.ElectionsStarted),
            leases,
            AkkaLeader(asks.Runtime.System, singleton));
    }

    private static readonly string SingletonModuleName = new SingletonModule().Name;

    private static async Task<SingletonProtocol.Status?> SingletonAsync(ModuleAsks asks)
    {
        try { return await asks.AskAsync<SingletonProtocol.Status>(SingletonModuleName, SingletonProtocol.GetStatus.Default); }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException) { return null; }
    }

    /// <summary>
    /// Akka.Cluster's leader in this node's view of the membership, and the Cluster Singleton: the node the proxy reached
    /// it on (null while unknown: none answered within distsys.singleton.ask-timeout-ms) and whether this node hosts one.
    /// </summary>
    public static AkkaLeaderDto AkkaLeader(ActorSystem system, SingletonProtocol.Status? singleton)
    {
        var state = Cluster.Get(system).State;
        var leader = state.Leader is { } address ? state.Members.FirstOrDefault(m => m.Address == address) : null;
        return new AkkaLeaderDto(
            leader is null ? null : NodeHttpApi.NodeIdOf(leader),
            state.Leader?.ToString(),
            singleton?.Reached?.NodeId,
            state.Unreachable.Select(NodeHttpApi.NodeIdOf).Where(id => id is not null).Select(id => id!.Value).Order().ToList())
        {
            SingletonIncarnation = singleton?.Reached?.Incarnation,
            SingletonInstances = singleton?.LocalInstances ?? 0,
            LocalSingletonIncarnation = singleton?.LocalIncarnation,
        };
    }
}

public sealed record ElectionStatusDto(BullyStatusDto? Bully, List<LeaseHolderDto>? Leases, AkkaLeaderDto Akka);

/// <summary>This node's Bully state (Starting, Electing, AwaitingCoordinator, Follower, Leader) and the coordinator it follows.</summary>
public sealed record BullyStatusDto(string State, int? LeaderId, long ElectionsStarted);

/// <summary>A live lease: its election's name, holder (as the candidate gave it), fencing token and TTL left.</summary>
public sealed record LeaseHolderDto(string Name, System.Text.Json.Nodes.JsonNode? Leader, long Token, long ExpiresInMs);

/// <summary>
/// Akka.Cluster's leader in this node's view and the members it sees unreachable; the Cluster Singleton's host and
/// incarnation as the proxy reached it (null while unknown), how many instances this node hosts now (0 or 1) and the
/// incarnation of its own.
/// </summary>
public sealed record AkkaLeaderDto(int? LeaderId, string? LeaderAddress, int? SingletonNodeId, List<int> Unreachable)
{
    public string? SingletonIncarnation { get; init; }
    public int SingletonInstances { get; init; }
    public string? LocalSingletonIncarnation { get; init; }
}
