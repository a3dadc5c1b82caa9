using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core;
using DistSysActors.Core.Network;

namespace DistSysActors.Actors.Modules;

/// <summary>
/// What every module of a node starts with: the node's identity and peers, its full configuration, and the parts
/// modules share — the network component (every protocol message goes through it) and the node's clock.
/// </summary>
public sealed record DistSysModuleContext(
    Config Config,
    NodeSettings Node,
    HostSettings Host,
    ImmutableSortedDictionary<NodeId, Address> Peers,
    Func<NodeId, Address?>? Resolve,
    FaultSpec? InitialFaults,
    NodeClock? Clock,
    bool ClusterProvider,
    DistSysActors.Actors.Network.PeerAddressing Addressing = DistSysActors.Actors.Network.PeerAddressing.Static)
{
    public NodeId Self => new(Node.Id);

    /// <summary>The network component; <see cref="ActorRefs.Nobody"/> only while the network module itself is being built.</summary>
    public IActorRef Network { get; init; } = ActorRefs.Nobody;
}

/// <summary>
/// One topic of a node: its settings section, its actor — a child of <c>/user/distsys</c> named <see cref="Name"/> —
/// and the Akka.Hosting registry key it is registered under. The node runtime, the Akka.Hosting extensions and the
/// node's <c>/status</c> and <c>/health</c> iterate modules instead of naming each topic.
/// </summary>
public abstract class DistSysModule
{
    /// <summary>The actor's name under <c>/user/distsys</c>, which is also the module's key in the runtime.</summary>
    public abstract string Name { get; }

    /// <summary>The key the module's actor is registered under in Akka.Hosting's <c>ActorRegistry</c>.</summary>
    public abstract Type RegistryKey { get; }

    /// <summary>Whether the module runs with this configuration (its <c>enabled</c> key; on by default).</summary>
    public virtual bool IsEnabled(Config config) => true;

    /// <summary>The module's actor; settings are read here, so a bad key fails the start naming the key.</summary>
    public abstract Props CreateProps(DistSysModuleContext context);

    public override string ToString() => Name;
}
