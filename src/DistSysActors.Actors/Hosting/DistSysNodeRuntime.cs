using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Pattern;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.FailureDetection;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.Ping;
using DistSysActors.Actors.Raft;
using DistSysActors.Core;
using DistSysActors.Core.Network;

namespace DistSysActors.Actors.Hosting;

/// <summary>
/// One running DistSysActors node: its actor system (named <c>distsys</c>) and the per-node actors
/// (network component, ping protocol, incarnation journal). Used by the `distsys node` host and by
/// in-process tests; embedders can start the same actors in their own system through <see cref="StartActors"/>.
/// </summary>
public sealed class DistSysNodeRuntime
{
    public const string SystemName = "distsys";

    private DistSysNodeRuntime(ActorSystem system, NodeSettings node, HostSettings host, IActorRef network, IActorRef ping, IActorRef incarnation,
        RaftSettings raftSettings, IActorRef? raft, FailureDetectionSettings failureDetectionSettings, IActorRef? heartbeat,
        NodeClock? clock = null, IActorRef? clockService = null)
    {
        FailureDetectionSettings = failureDetectionSettings;
        Heartbeat = heartbeat;
        Clock = clock;
        ClockService = clockService;
        RaftSettings = raftSettings;
        Raft = raft;
        System = system;
        Node = node;
        Host = host;
        Network = network;
        Ping = ping;
        Incarnation = incarnation;
    }

    public ActorSystem System { get; }
    public NodeSettings Node { get; }
    public HostSettings Host { get; }
    public IActorRef Network { get; }
    public IActorRef Ping { get; }
    public IActorRef Incarnation { get; }
    public RaftSettings RaftSettings { get; }
    /// <summary>The Raft key-value store of this node; null when distsys.raft.enabled is off.</summary>
    public IActorRef? Raft { get; }
    public FailureDetectionSettings FailureDetectionSettings { get; }
    /// <summary>The heartbeat failure detector of this node; null when distsys.failure-detector.enabled is off.</summary>
    public IActorRef? Heartbeat { get; }
    public NodeId Self => new(Node.Id);
    /// <summary>This node's physical and hybrid logical clock, shared by the network component and the clock service; null when distsys.clock.enabled is off.</summary>
    public NodeClock? Clock { get; }
    /// <summary>The clock service (<see cref="ClockActor"/>); null when distsys.clock.enabled is off.</summary>
    public IActorRef? ClockService { get; }

    /// <summary>The protocol scheme of node addresses: the throttler adapter's when it is applied (AKKA-NOTES.md).</summary>
    public static string AddressProtocol(Config config)
    {
        var adapters = config.GetStringList("akka.remote.dot-netty.tcp.applied-adapters");
        return adapters is { Count: > 0 } ? $"akka.{string.Join(".", adapters)}.tcp" : "akka.tcp";
    }

    /// <summary>Peer addresses derived from the port plan: node I at hostname:(base-port + I), for the founding nodes 1..N and this node.</summary>
    public static ImmutableSortedDictionary<NodeId, Address> PeersFromPorts(NodeSettings node, string protocol) =>
        Enumerable.Range(1, node.Nodes).Append(node.Id).Distinct().ToImmutableSortedDictionary(
            i => new NodeId(i), i => AddressFromPorts(node, protocol, i));

    /// <summary>
    /// Resolves any id of the port plan, so servers added to Raft after start (ids above N) are reachable; null outside
    /// the plan (the network component counts such a send as unroutable).
    /// </summary>
    public static Func<NodeId, Address?> ResolverFromPorts(NodeSettings node, string protocol) =>
        id => NodeSettings.InPortPlan(id.Value) ? AddressFromPorts(node, protocol, id.Value) : null;

    private static Address AddressFromPorts(NodeSettings node, string protocol, int id) =>
        new(protocol, SystemName, node.Hostname, node.RemotePortOf(id));

    /// <summary>
    /// Builds the akka.* part of a node's configuration from its distsys.node settings: remoting port, seed
    /// nodes (nodes 1..N; all but this one when <paramref name="joinOthersOnly"/>, e.g. when it rejoins after being
    /// downed or restarts with persisted state, or when it joins a running cluster, so it never forms an island of its
    /// own), its role <c>node-I</c>, and the journal. <paramref name="knownMembers"/> (ids of the port plan last seen Up,
    /// e.g. servers added later) are seeds too, after 1..N, so a restart finds the cluster when the founding nodes are gone.
    /// </summary>
    public static Config NodeConfig(Config distsys, bool joinOthersOnly, IEnumerable<int>? knownMembers = null)
    {
        var node = NodeSettings.Create(distsys);
        var host = HostSettings.Create(distsys);
        var protocol = AddressProtocol(distsys);
        var seeds = Enumerable.Range(1, node.Nodes)
            .Concat((knownMembers ?? []).Where(NodeSettings.InPortPlan).Order())
            .Distinct()
            .Where(i => !((joinOthersOnly || node.Join) && i == node.Id))
            .Select(i => $"\"{AddressFromPorts(node, protocol, i)}\"");
        var generated = ConfigurationFactory.ParseString($$"""
            akka.remote.dot-netty.tcp.hostname = "{{node.Hostname}}"
            akka.remote.dot-netty.tcp.port = {{node.RemotePortOf(node.Id)}}
            akka.cluster.seed-nodes = [{{string.Join(", ", seeds)}}]
            akka.cluster.roles = ["node-{{node.Id}}"]
            """);
        var persistence = host.Journal == "sqlite"
            ? SqlitePersistence.Prepare(Path.Combine(node.NodeDataDir, host.SqliteFile))
            : ConfigurationFactory.ParseString("""
                akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
                akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
                """);
        return generated.WithFallback(persistence).WithFallback(distsys);
    }

    /// <summary>Starts an actor system for a node from a complete configuration (see <see cref="NodeConfig"/>).</summary>
    public static DistSysNodeRuntime Start(Config config, ImmutableSortedDictionary<NodeId, Address>? peers = null, FaultSpec? faults = null)
    {
        var full = config.WithFallback(DistSysConfig.Reference);
        var system = ActorSystem.Create(SystemName, full);
        try
        {
            return StartActors(system, full, peers, faults);
        }
        catch
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            throw;
        }
    }

    /// <summary>Starts a node's actors inside an existing actor system (for embedding and tests).</summary>
    public static DistSysNodeRuntime StartActors(ActorSystem system, Config config, ImmutableSortedDictionary<NodeId, Address>? peers = null, FaultSpec? faults = null)
    {
        var full = config.WithFallback(DistSysConfig.Reference);
        var node = NodeSettings.Create(full);
        var host = HostSettings.Create(full);
        var networkSettings = NetworkSettings.Create(full);
        var ping = PingSettings.Create(full);
        var self = new NodeId(node.Id);
        var resolve = peers is null ? ResolverFromPorts(node, AddressProtocol(full)) : null;
        peers ??= PeersFromPorts(node, AddressProtocol(full));
        var clockSettings = ClockSettings.Create(full);
        clockSettings.CheckReference(peers.Keys);
        var clock = clockSettings.Enabled ? NodeClock.Create(clockSettings) : null;
        var network = system.ActorOf(NetworkActor.Props(self, networkSettings, peers, faults, clock, resolve), NetworkActor.Name);
        var pinger = system.ActorOf(PingActor.Props(self, peers.Keys.ToArray(), network, TimeSpan.FromMilliseconds(ping.IntervalMs)), "ping");
        var incarnation = system.ActorOf(IncarnationActor.Props(node.Id), "incarnation");
        var raftSettings = RaftSettings.Create(full);
        var raft = raftSettings.Enabled
            // Supervised with backoff: if the replica stops (e.g. its journal is unavailable), it is started again and recovers.
            ? system.ActorOf(BackoffSupervisor.Props(Backoff.OnStop(
                // A joining server starts with no voters: it never campaigns until a leader has added it (RaftConfig.Voters).
                RaftActor.Props(self, node.Join ? [] : peers.Keys.ToArray(), raftSettings, network, TimeSpan.FromMilliseconds(host.RequestTimeoutMs)),
                "replica", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2, maxNrOfRetries: -1)), "raft")
            : null;
        var failureDetectionSettings = FailureDetectionSettings.Create(full);
        var heartbeat = failureDetectionSettings.Enabled
            ? system.ActorOf(HeartbeatActor.Props(self, peers.Keys.ToArray(), failureDetectionSettings, network,
                awaitMemberUp: ((ExtendedActorSystem)system).Provider is Akka.Cluster.ClusterActorRefProvider), "heartbeat")
            : null;
        var clockService = clock is not null
            ? system.ActorOf(ClockActor.Props(self, peers.Keys.ToArray(), clockSettings, network, clock), "clock")
            : null;
        return new DistSysNodeRuntime(system, node, host, network, pinger, incarnation, raftSettings, raft, failureDetectionSettings, heartbeat, clock, clockService);
    }
}
