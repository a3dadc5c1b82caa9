using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.FailureDetection;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Modules;
using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.Raft;
using DistSysActors.Actors.ReliableDelivery;
using DistSysActors.Core;
using DistSysActors.Core.Network;

namespace DistSysActors.Actors.Hosting;

/// <summary>
/// One running DistSysActors node: its actor system (named <c>distsys</c>) and its modules' actors under
/// <c>/user/distsys</c> (network component, incarnation journal, ping, Raft, failure detector, clock service; see
/// <see cref="NodeModules"/>). Used by the `distsys node` host and by in-process tests; embedders start the same actors
/// in their own system through <see cref="StartActors"/> or the Akka.Hosting extensions.
/// </summary>
public sealed class DistSysNodeRuntime
{
    public const string SystemName = "distsys";

    private readonly Dictionary<string, IActorRef> _modules;

    private DistSysNodeRuntime(ActorSystem system, DistSysModuleContext context, IActorRef guardian, IReadOnlyList<(DistSysModule Module, IActorRef Actor)> modules)
    {
        System = system;
        Context = context;
        Guardian = guardian;
        Started = modules.Select(m => m.Module).ToArray();
        _modules = modules.ToDictionary(m => m.Module.Name, m => m.Actor, StringComparer.Ordinal);
        RaftSettings = RaftSettings.Create(context.Config);
        KvSettings = RaftSettings.Kv;
        FailureDetectionSettings = FailureDetectionSettings.Create(context.Config);
    }

    public ActorSystem System { get; }
    /// <summary>What the modules were started with: identity, peers, configuration, network component and clock.</summary>
    public DistSysModuleContext Context { get; }
    /// <summary><c>/user/distsys</c>, the parent of every module's actor.</summary>
    public IActorRef Guardian { get; }
    /// <summary>The modules running on this node, in start order.</summary>
    public IReadOnlyList<DistSysModule> Started { get; }
    public NodeSettings Node => Context.Node;
    public HostSettings Host => Context.Host;
    public NodeId Self => Context.Self;

    /// <summary>The actor of the module named <paramref name="name"/>; null when that module is not running.</summary>
    public IActorRef? Module(string name) => _modules.GetValueOrDefault(name);

    public IActorRef Network => _modules[new NetworkModule().Name];
    public IActorRef Ping => _modules[new PingModule().Name];
    public IActorRef Incarnation => _modules[new IncarnationModule().Name];
    public RaftSettings RaftSettings { get; }
    /// <summary>The settings of the key-value service the Raft replica hosts (request limits, idempotency).</summary>
    public KvSettings KvSettings { get; }
    /// <summary>The Raft key-value store of this node; null when distsys.raft.enabled is off.</summary>
    public IActorRef? Raft => Module(new RaftModule().Name);
    /// <summary>The Multi-Paxos key-value store of this node; null unless distsys.kv.consensus = paxos.</summary>
    public IActorRef? MultiPaxos => Module(new MultiPaxosModule().Name);
    /// <summary>The replica serving /kv: the Raft one, or the Multi-Paxos one.</summary>
    public IActorRef? KvReplica => Raft ?? MultiPaxos;
    public FailureDetectionSettings FailureDetectionSettings { get; }
    /// <summary>The heartbeat failure detector of this node; null when distsys.failure-detector.enabled is off.</summary>
    public IActorRef? Heartbeat => Module(new FailureDetectorModule().Name);
    /// <summary>This node's physical and hybrid logical clock, shared by the network component and the clock service; null when distsys.clock.enabled is off.</summary>
    public NodeClock? Clock => Context.Clock;
    /// <summary>The clock service (<see cref="ClockActor"/>); null when distsys.clock.enabled is off.</summary>
    public IActorRef? ClockService => Module(new ClockModule().Name);

    /// <summary>The protocol scheme of node addresses: the throttler adapter's when it is applied, and ssl when TLS is on (enable-ssl).</summary>
    public static string AddressProtocol(Config config)
    {
        var adapters = config.GetStringList("akka.remote.dot-netty.tcp.applied-adapters");
        var ssl = config.HasPath("akka.remote.dot-netty.tcp.enable-ssl") && config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl") ? "ssl." : "";
        return adapters is { Count: > 0 } ? $"akka.{string.Join(".", adapters)}.{ssl}tcp" : $"akka.{ssl}tcp";
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
        id == node.Id ? SelfAddress(node, protocol) : new(protocol, SystemName, node.Hostname, node.RemotePortOf(id));

    /// <summary>
    /// Builds the akka.* part of a node's configuration from its distsys.node settings: where remoting binds
    /// (hostname, public-hostname, port), the seed nodes, its roles <c>node-I</c> and <c>http=URL</c>, and the journal. Seeds are
    /// distsys.node.seeds when given (a cluster over several hosts), else the localhost port plan: nodes 1..N, then
    /// <paramref name="knownMembers"/> (ids of the port plan last seen Up, e.g. servers added later, so a restart finds
    /// the cluster when the founding nodes are gone). This node's own address is left out when
    /// <paramref name="joinOthersOnly"/> (it rejoins after being downed, restarts with persisted state, or joins a running
    /// cluster), so it never forms an island of its own.
    /// </summary>
    public static Config NodeConfig(Config distsys, bool joinOthersOnly, IEnumerable<int>? knownMembers = null)
    {
        var node = NodeSettings.Create(distsys);
        var host = HostSettings.Create(distsys);
        var protocol = AddressProtocol(distsys);
        var self = SelfAddress(node, protocol);
        var seeds = (node.UsesSeeds
                ? node.Seeds.Select(s => NodeSeeds.WithProtocol(s, protocol))
                : Enumerable.Range(1, node.Nodes).Concat((knownMembers ?? []).Where(NodeSettings.InPortPlan).Order())
                    .Select(i => AddressFromPorts(node, protocol, i)))
            .Distinct()
            .Where(a => !((joinOthersOnly || node.Join) && a.Equals(self)))
            .Select(a => $"\"{a}\"");
        var generated = ConfigurationFactory.ParseString($$"""
            akka.remote.dot-netty.tcp.hostname = "{{node.Hostname}}"
            akka.remote.dot-netty.tcp.public-hostname = "{{node.AdvertisedHostname}}"
            akka.remote.dot-netty.tcp.port = {{node.SelfRemotePort}}
            akka.cluster.seed-nodes = [{{string.Join(", ", seeds)}}]
            akka.cluster.roles = ["{{NodeRoles.Of(node.Id)}}", "{{NodeRoles.Http(NodeRoles.HttpUrl(node, distsys))}}"]
            """);
        var persistence = SqlitePersistence.ForJournal(host.Journal, Path.Combine(node.NodeDataDir, host.SqliteFile), distsys);
        return generated.WithFallback(persistence).WithFallback(distsys);
    }

    /// <summary>
    /// Where this node's remoting binds and is reached (hostname, public-hostname) over <paramref name="distsys"/>: the
    /// transport settings alone, without the cluster's seeds or roles and without touching the journal (preparing the
    /// SQLite journal's configuration creates its file), for an actor system that only speaks to others (<see cref="SeenProbe"/>).
    /// </summary>
    public static Config RemotingConfig(Config distsys)
    {
        var node = NodeSettings.Create(distsys);
        return ConfigurationFactory.ParseString($$"""
            akka.remote.dot-netty.tcp.hostname = "{{node.Hostname}}"
            akka.remote.dot-netty.tcp.public-hostname = "{{node.AdvertisedHostname}}"
            """).WithFallback(distsys);
    }

    /// <summary>The address other nodes reach this one at: public-hostname (else hostname) and its own port.</summary>
    public static Address SelfAddress(NodeSettings node, string protocol) =>
        new(protocol, SystemName, node.AdvertisedHostname, node.SelfRemotePort);

    /// <summary>
    /// Whether this node is the one that forms a new cluster when nobody answers: the first seed (node 1 of the port plan,
    /// or the first of distsys.node.seeds when that is this node's own address).
    /// </summary>
    public static bool IsFirstSeed(Config distsys)
    {
        var node = NodeSettings.Create(distsys);
        if (!node.UsesSeeds) return node.Id == 1;
        var protocol = AddressProtocol(distsys);
        return NodeSeeds.WithProtocol(node.Seeds[0], protocol).Equals(SelfAddress(node, protocol));
    }

    /// <summary>
    /// Reads every settings section a node uses (node, host, network, ping, Raft with idempotency, failure detector,
    /// clock — its reference node among the port plan's nodes — and reliable delivery), so that a bad value fails with a
    /// <see cref="ConfigurationException"/> naming the key before anything starts. <paramref name="config"/> falls back
    /// to the reference configuration.
    /// </summary>
    public static void ValidateSettings(Config config)
    {
        var full = config.WithFallback(DistSysConfig.Reference);
        var node = NodeSettings.Create(full);
        HostSettings.Create(full);
        NetworkSettings.Create(full);
        PingSettings.Create(full);
        RaftSettings.Create(full);
        Paxos.PaxosSettings.Create(full);
        Paxos.KvConsensusSettings.Create(full);
        FailureDetectionSettings.Create(full);
        ClockSettings.Create(full).CheckReference(PeersFromPorts(node, AddressProtocol(full)).Keys);
        DeliverySettings.Create(full);
        LoggingSettings.Create(full);
        Election.Singleton.SingletonSettings.Create(full);
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

    /// <summary>
    /// Starts a node's modules inside an existing actor system (for embedding and tests): every module of
    /// <paramref name="modules"/> (default <see cref="NodeModules.All"/>) whose configuration enables it, in order, as
    /// children of <c>/user/distsys</c>. A module that fails to start fails the whole start, naming the cause.
    /// </summary>
    public static DistSysNodeRuntime StartActors(ActorSystem system, Config config, ImmutableSortedDictionary<NodeId, Address>? peers = null,
        FaultSpec? faults = null, IEnumerable<DistSysModule>? modules = null)
    {
        var context = CreateContext(system, config, peers, faults);
        var guardian = system.ActorOf(DistSysGuardian.Props(context), DistSysGuardian.Name);
        var started = new List<(DistSysModule, IActorRef)>();
        foreach (var module in (modules ?? NodeModules.All).Where(m => m.IsEnabled(context.Config)))
            started.Add((module, StartModule(guardian, module)));
        return new DistSysNodeRuntime(system, context, guardian, started);
    }

    /// <summary>The context modules start with: settings read (failing fast on a bad key), peers resolved, the node clock made.</summary>
    public static DistSysModuleContext CreateContext(ActorSystem system, Config config, ImmutableSortedDictionary<NodeId, Address>? peers = null, FaultSpec? faults = null)
    {
        var full = config.WithFallback(DistSysConfig.Reference);
        var node = NodeSettings.Create(full);
        var clusterProvider = ((ExtendedActorSystem)system).Provider is Akka.Cluster.ClusterActorRefProvider;
        // Across hosts (seeds given) a peer is found only through the membership: the port plan's addresses mean nothing there.
        var addressing = !clusterProvider ? PeerAddressing.Static : node.UsesSeeds ? PeerAddressing.MembershipOnly : PeerAddressing.MembershipFirst;
        var resolve = peers is null && addressing != PeerAddressing.MembershipOnly ? ResolverFromPorts(node, AddressProtocol(full)) : null;
        peers ??= PeersFromPorts(node, AddressProtocol(full));
        var clockSettings = ClockSettings.Create(full);
        clockSettings.CheckReference(peers.Keys);
        var clock = clockSettings.Enabled ? NodeClock.Create(clockSettings) : null;
        NodeLog.Install(system, new NodeLog(new NodeId(node.Id), clock, LoggingSettings.Create(full), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            clusterNodes: Math.Max(node.Nodes, peers.Count)));
        return new DistSysModuleContext(full, node, HostSettings.Create(full), peers, resolve, faults, clock, clusterProvider, addressing);
    }

    /// <summary>Asks <c>/user/distsys</c> to start <paramref name="module"/> and waits for its actor (module starts are quick: no I/O).</summary>
    public static IActorRef StartModule(IActorRef guardian, DistSysModule module) =>
        guardian.Ask<DistSysGuardian.ModuleStarted>(new DistSysGuardian.StartModule(module), TimeSpan.FromSeconds(30))
            .GetAwaiter().GetResult().Actor;
}
