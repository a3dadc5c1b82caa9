using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Akka.Remote;
using DistSysActors.Actors.Modules;
using DistSysActors.Actors.Persistence;
using DistSysActors.Actors.ReliableDelivery;
using DistSysActors.Actors.Raft;
using DistSysActors.Core;

namespace DistSysActors.Actors.Hosting;

/// <summary>Options for embedding a DistSysActors node in an Akka.Hosting application; they become distsys.* HOCON.</summary>
public sealed class DistSysNodeOptions
{
    /// <summary>This node's id, 1..N.</summary>
    public int NodeId { get; set; } = 1;

    /// <summary>Every node's actor system address (this one included), e.g. "akka.tcp://app@10.0.0.2:4053"; one entry means a single-node cluster.</summary>
    public IDictionary<int, string> Peers { get; } = new SortedDictionary<int, string>();

    /// <summary>
    /// A SQLite file for this node's journal and snapshots (Akka.Persistence.Sql, WAL mode); null leaves persistence to
    /// the application's own <c>akka.persistence</c> configuration. Without a durable journal a restarted node forgets
    /// its Raft vote and log, which Raft's safety depends on: the node logs a warning at start.
    /// </summary>
    public string? SqliteDatabase { get; set; }

    public bool RaftEnabled { get; set; } = true;
    public int? RaftTickMs { get; set; }
    public int? RaftElectionTicks { get; set; }
    public int? RequestTimeoutMs { get; set; }

    /// <summary>The HOCON these options stand for (HOCON stays the single source of truth).</summary>
    public Config ToHocon()
    {
        var h = new StringBuilder();
        h.AppendLine(CultureInfo.InvariantCulture, $"distsys.node.id = {NodeId}");
        h.AppendLine(CultureInfo.InvariantCulture, $"distsys.node.nodes = {Math.Max(1, Peers.Count)}");
        h.AppendLine(CultureInfo.InvariantCulture, $"distsys.raft.enabled = {(RaftEnabled ? "on" : "off")}");
        if (RaftTickMs is { } tick) h.AppendLine(CultureInfo.InvariantCulture, $"distsys.raft.tick-ms = {tick}");
        if (RaftElectionTicks is { } election) h.AppendLine(CultureInfo.InvariantCulture, $"distsys.raft.election-ticks = {election}");
        if (RequestTimeoutMs is { } timeout) h.AppendLine(CultureInfo.InvariantCulture, $"distsys.http.request-timeout-ms = {timeout}");
        return ConfigurationFactory.ParseString(h.ToString());
    }
}

/// <summary>Registry keys of the modules' actors in Akka.Hosting's <see cref="IActorRegistry"/>.</summary>
public sealed class DistSysGuardianKey;
public sealed class DistSysNetworkKey;
public sealed class DistSysIncarnationKey;
public sealed class DistSysPingKey;
public sealed class DistSysRaftKey;
public sealed class DistSysMultiPaxosKey;
public sealed class DistSysPaxosProposerKey;
public sealed class DistSysPaxosAcceptorKey;
public sealed class DistSysPaxosLearnerKey;
public sealed class DistSysFailureDetectorKey;
public sealed class DistSysClockKey;
public sealed class DistSysBullyKey;

/// <summary>Options of <see cref="DistSysHostingExtensions.WithDistSysRaft"/>; they become <c>distsys.raft.*</c> HOCON.</summary>
public sealed class DistSysRaftOptions
{
    public int? TickMs { get; set; }
    public int? ElectionTicks { get; set; }

    public Config ToHocon()
    {
        var h = new StringBuilder();
        if (TickMs is { } tick) h.AppendLine(CultureInfo.InvariantCulture, $"distsys.raft.tick-ms = {tick}");
        if (ElectionTicks is { } election) h.AppendLine(CultureInfo.InvariantCulture, $"distsys.raft.election-ticks = {election}");
        return ConfigurationFactory.ParseString(h.ToString());
    }
}

/// <summary>
/// Akka.Hosting extensions: <see cref="WithDistSysNode"/> starts every module the configuration enables; the
/// per-module extensions start just the ones an application wants, after <see cref="WithDistSysNetwork"/>, which
/// defines the node. Each module's actor runs under <c>/user/distsys</c> and is registered in the actor registry.
/// </summary>
public static class DistSysHostingExtensions
{
    /// <summary>
    /// Adds a whole DistSysActors node: <see cref="WithDistSysNetwork"/>, then every other module of
    /// <see cref="NodeModules.All"/> that the configuration enables (ping, Raft key-value store persisted through the
    /// application's <c>akka.persistence</c> journal or <see cref="DistSysNodeOptions.SqliteDatabase"/>, failure
    /// detector, clock service).
    /// </summary>
    public static AkkaConfigurationBuilder WithDistSysNode(this AkkaConfigurationBuilder builder, Action<DistSysNodeOptions> configure)
    {
        builder.WithDistSysNetwork(configure);
        foreach (var module in NodeModules.All.Where(m => m is not (NetworkModule or IncarnationModule)))
            builder.WithDistSysModule(module);
        return builder;
    }

    /// <summary>
    /// Defines the node (id, peers, persistence) and starts <c>/user/distsys</c> with the network component every
    /// protocol message passes through, and the incarnation journal. Other modules are added after it.
    /// </summary>
    public static AkkaConfigurationBuilder WithDistSysNetwork(this AkkaConfigurationBuilder builder, Action<DistSysNodeOptions> configure)
    {
        var options = new DistSysNodeOptions();
        configure(options);
        if (options.Peers.Count > 0 && !options.Peers.ContainsKey(options.NodeId))
            throw new ArgumentException($"Peers must include this node ({options.NodeId})", nameof(configure));
        builder.AddHocon(options.ToHocon(), HoconAddMode.Prepend);
        if (options.SqliteDatabase is { } database) builder.AddHocon(SqlitePersistence.Prepare(database), HoconAddMode.Prepend);
        builder.AddHocon(Configuration.DistSysConfig.Reference, HoconAddMode.Append);
        return builder.WithActors((system, registry) =>
        {
            var peers = ResolvePeers(options, (ExtendedActorSystem)system);
            WarnIfJournalIsNotDurable(system, options.NodeId);
            var context = DistSysNodeRuntime.CreateContext(system, system.Settings.Config, peers);
            var guardian = system.ActorOf(DistSysGuardian.Props(context), DistSysGuardian.Name);
            registry.Register<DistSysGuardianKey>(guardian);
            Start(system, registry, new NetworkModule());
            Start(system, registry, new IncarnationModule());
        });
    }

    /// <summary>Adds the Raft replicated key-value store (<see cref="DistSysRaftKey"/>); its options override <c>distsys.raft</c>.</summary>
    public static AkkaConfigurationBuilder WithDistSysRaft(this AkkaConfigurationBuilder builder, Action<DistSysRaftOptions>? configure = null)
    {
        var options = new DistSysRaftOptions();
        configure?.Invoke(options);
        builder.AddHocon(options.ToHocon(), HoconAddMode.Prepend);
        return builder.WithDistSysModule(new RaftModule());
    }

    /// <summary>Adds ping between every pair of nodes (<see cref="DistSysPingKey"/>).</summary>
    public static AkkaConfigurationBuilder WithDistSysPing(this AkkaConfigurationBuilder builder) => builder.WithDistSysModule(new PingModule());

    /// <summary>
    /// Adds the Basic Paxos registers: a proposer, an acceptor and a learner actor (<see cref="DistSysPaxosProposerKey"/>,
    /// <see cref="DistSysPaxosAcceptorKey"/>, <see cref="DistSysPaxosLearnerKey"/>), configured by <c>distsys.paxos</c>.
    /// </summary>
    public static AkkaConfigurationBuilder WithDistSysPaxosRegisters(this AkkaConfigurationBuilder builder) => builder
        .WithDistSysModule(new RegisterRoleModule(Core.Paxos.RegisterPaxos.Role.Acceptor))
        .WithDistSysModule(new RegisterRoleModule(Core.Paxos.RegisterPaxos.Role.Learner))
        .WithDistSysModule(new RegisterRoleModule(Core.Paxos.RegisterPaxos.Role.Proposer));

    /// <summary>Adds the heartbeat failure detector (<see cref="DistSysFailureDetectorKey"/>).</summary>
    public static AkkaConfigurationBuilder WithDistSysFailureDetector(this AkkaConfigurationBuilder builder) =>
        builder.WithDistSysModule(new FailureDetectorModule());

    /// <summary>Adds the Bully election (<see cref="DistSysBullyKey"/>), configured by <c>distsys.bully</c>.</summary>
    public static AkkaConfigurationBuilder WithDistSysBully(this AkkaConfigurationBuilder builder) => builder.WithDistSysModule(new Election.BullyModule());

    /// <summary>Adds the clock service (<see cref="DistSysClockKey"/>).</summary>
    public static AkkaConfigurationBuilder WithDistSysClock(this AkkaConfigurationBuilder builder) => builder.WithDistSysModule(new ClockModule());

    /// <summary>
    /// Adds reliable delivery on <paramref name="channel"/>: the sender, registered under <typeparamref name="TSenderKey"/>,
    /// and, when <paramref name="handlerFactory"/> is given, the receiver that applies each message once to its state.
    /// </summary>
    public static AkkaConfigurationBuilder WithDistSysDelivery<TSenderKey>(this AkkaConfigurationBuilder builder, string channel,
        Func<IDeliveryHandler>? handlerFactory = null)
    {
        builder.WithDistSysModule(new DeliverySenderModule(channel, typeof(TSenderKey)));
        return handlerFactory is null ? builder : builder.WithDistSysModule(new DeliveryReceiverModule(channel, typeof(DeliveryReceiverKey<TSenderKey>), handlerFactory));
    }

    /// <summary>Adds <paramref name="module"/> (one of a node's, or an application's own) under <c>/user/distsys</c>, when its configuration enables it.</summary>
    public static AkkaConfigurationBuilder WithDistSysModule(this AkkaConfigurationBuilder builder, DistSysModule module) =>
        builder.WithActors((system, registry) =>
        {
            if (module.IsEnabled(system.Settings.Config)) Start(system, registry, module);
        });

    private static void Start(ActorSystem system, IActorRegistry registry, DistSysModule module)
    {
        if (!registry.TryGet<DistSysGuardianKey>(out var guardian))
            throw new InvalidOperationException($"the distsys module '{module.Name}' needs WithDistSysNetwork (or WithDistSysNode) before it");
        if (!registry.TryRegister(module.RegistryKey, DistSysNodeRuntime.StartModule(guardian, module)))
            throw new InvalidOperationException($"the registry already holds an actor under {module.RegistryKey.Name} (module '{module.Name}' added twice?)");
    }

    /// <summary>
    /// The peer directory from the options, checked against the actor system it runs in, so a setup that could only
    /// end in "no leader" forever fails at start instead, naming what is wrong: peers without remoting, a peer whose
    /// actor system name differs from this one's, or this node's own entry differing from the address remoting bound.
    /// </summary>
    internal static ImmutableSortedDictionary<NodeId, Address> ResolvePeers(DistSysNodeOptions options, ExtendedActorSystem system)
    {
        var own = system.Provider.DefaultAddress;
        if (options.Peers.Count == 0) return ImmutableSortedDictionary.CreateRange([KeyValuePair.Create(new NodeId(options.NodeId), own)]);
        var prefix = $"distsys node {options.NodeId} in actor system '{system.Name}'";
        if (options.Peers.Count > 1 && system.Provider is not RemoteActorRefProvider)
            throw new InvalidOperationException($"{prefix}: Peers name {options.Peers.Count} nodes, but the actor system has no remoting " +
                "(akka.actor.provider is local): add remoting (e.g. Akka.Remote.Hosting's WithRemoting) or leave Peers empty for a single node");
        var peers = ImmutableSortedDictionary.CreateBuilder<NodeId, Address>();
        foreach (var (id, text) in options.Peers)
        {
            Address address;
            try { address = Address.Parse(text); }
            catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
            {
                throw new InvalidOperationException($"{prefix}: Peers[{id}] = \"{text}\" is not an actor system address such as akka.tcp://{system.Name}@10.0.0.1:4051", e);
            }
            if (address.Host is null || address.Port is null)
                throw new InvalidOperationException($"{prefix}: Peers[{id}] = \"{text}\" has no host and port");
            if (address.System != system.Name)
                throw new InvalidOperationException($"{prefix}: Peers[{id}] = \"{text}\" names actor system '{address.System}': " +
                    $"every node's actor system must be named '{system.Name}', as remote addresses include the name");
            peers[new NodeId(id)] = address;
        }
        if (options.Peers.Count > 1 && !peers[new NodeId(options.NodeId)].Equals(own))
            throw new InvalidOperationException($"{prefix}: Peers[{options.NodeId}] (this node) = \"{options.Peers[options.NodeId]}\", " +
                $"but remoting is bound at {own}: protocol, host and port must match, or the other nodes cannot reach this one");
        return peers.ToImmutable();
    }

    private static void WarnIfJournalIsNotDurable(ActorSystem system, int nodeId)
    {
        if (NonDurableJournalWarning(system.Settings.Config, nodeId) is { } warning) Logging.GetLogger(system, "distsys").Warning(warning);
    }

    /// <summary>The warning a node logs at start when its journal keeps nothing across a restart; null for a durable one.</summary>
    internal static string? NonDurableJournalWarning(Config config, int nodeId)
    {
        var journal = config.GetString("akka.persistence.journal.plugin", "");
        if (journal is not ("" or "akka.persistence.journal.inmem")) return null;
        return $"distsys node {nodeId} keeps its Raft state in the in-memory journal (akka.persistence.journal.plugin = \"{journal}\"): " +
               "a restarted node forgets its vote and log, which breaks Raft's safety. Set DistSysNodeOptions.SqliteDatabase " +
               "or configure a durable akka.persistence journal.";
    }
}

/// <summary>Helpers for applications that talk to an embedded node's Raft key-value store.</summary>
public static class DistSysRaft
{
    /// <summary>
    /// Completes once the Raft actor has recovered its journal and knows a leader, i.e. once a request can be served;
    /// fails with <see cref="AskTimeoutException"/> after <paramref name="timeout"/>.
    /// </summary>
    public static Task<RaftProtocol.RaftReady> WhenReadyAsync(this IActorRef raft, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        raft.Ask<RaftProtocol.RaftReady>(RaftProtocol.AwaitReady.Instance, timeout, cancellationToken);
}

/// <summary>The registry key of the receiver of the reliable-delivery channel whose sender is registered under <typeparamref name="TSenderKey"/>.</summary>
public sealed class DeliveryReceiverKey<TSenderKey>;
