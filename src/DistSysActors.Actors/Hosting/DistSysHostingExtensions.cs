using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Akka.Remote;
using DistSysActors.Actors.Persistence;
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

/// <summary>Registry keys for the actors a DistSysActors node registers with Akka.Hosting's <see cref="IActorRegistry"/>.</summary>
public sealed class DistSysRaftKey;
public sealed class DistSysNetworkKey;

public static class DistSysHostingExtensions
{
    /// <summary>
    /// Adds a DistSysActors node to an Akka.Hosting actor system: writes the options as distsys.* HOCON (with the
    /// reference configuration as fallback) and starts the node's actors — network component, ping, incarnation
    /// journal and, unless disabled, the Raft key-value store (persisted through the application's own
    /// akka.persistence journal plugin) — registering the Raft and network actors under
    /// <see cref="DistSysRaftKey"/> and <see cref="DistSysNetworkKey"/>.
    /// </summary>
    public static AkkaConfigurationBuilder WithDistSysNode(this AkkaConfigurationBuilder builder, Action<DistSysNodeOptions> configure)
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
            var runtime = DistSysNodeRuntime.StartActors(system, system.Settings.Config, peers);
            registry.Register<DistSysNetworkKey>(runtime.Network);
            if (runtime.Raft is { } raft) registry.Register<DistSysRaftKey>(raft);
        });
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
