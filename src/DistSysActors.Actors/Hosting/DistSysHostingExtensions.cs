using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using DistSysActors.Core;

namespace DistSysActors.Actors.Hosting;

/// <summary>Options for embedding a DistSysActors node in an Akka.Hosting application; they become distsys.* HOCON.</summary>
public sealed class DistSysNodeOptions
{
    /// <summary>This node's id, 1..N.</summary>
    public int NodeId { get; set; } = 1;

    /// <summary>Every node's actor system address (this one included), e.g. "akka.tcp://app@10.0.0.2:4053"; one entry means a single-node cluster.</summary>
    public IDictionary<int, string> Peers { get; } = new SortedDictionary<int, string>();

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
        builder.AddHocon(Configuration.DistSysConfig.Reference, HoconAddMode.Append);
        return builder.WithActors((system, registry) =>
        {
            var peers = options.Peers.Count == 0
                ? ImmutableSortedDictionary.CreateRange([KeyValuePair.Create(new NodeId(options.NodeId), ((ExtendedActorSystem)system).Provider.DefaultAddress)])
                : options.Peers.ToImmutableSortedDictionary(p => new NodeId(p.Key), p => Address.Parse(p.Value));
            var runtime = DistSysNodeRuntime.StartActors(system, system.Settings.Config, peers);
            registry.Register<DistSysNetworkKey>(runtime.Network);
            if (runtime.Raft is { } raft) registry.Register<DistSysRaftKey>(raft);
        });
    }
}
