using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Modules;

namespace DistSysActors.Actors.Gossip;

/// <summary>SWIM membership (<c>distsys.gossip</c>): every node probes the others, seeds being the founding nodes.</summary>
public sealed class SwimModule : DistSysModule
{
    public override string Name => "swim";
    public override Type RegistryKey => typeof(DistSysSwimKey);
    public override bool IsEnabled(Config config) => GossipSettings.Create(config).Enabled;

    public override Props CreateProps(DistSysModuleContext c) =>
        SwimActor.Props(c.Self, c.Peers.Keys.ToArray(), GossipSettings.Create(c.Config), c.Network, RandomSeed(c));

    /// <summary>A fixed seed per node, as the network component's: probing orders differ between nodes and replay between runs.</summary>
    internal static long RandomSeed(DistSysModuleContext c) => 0x6055_1900L + c.Self.Value;
}

/// <summary>The anti-entropy AP store behind <c>/ap/{key}</c> (<c>distsys.gossip</c>).</summary>
public sealed class ApStoreModule : DistSysModule
{
    public override string Name => "ap";
    public override Type RegistryKey => typeof(DistSysApStoreKey);
    public override bool IsEnabled(Config config) => GossipSettings.Create(config).Enabled;

    public override Props CreateProps(DistSysModuleContext c)
    {
        var clock = c.Clock;
        Func<long> clockMs = clock is null ? NodeClock.SystemHostMs : clock.ReadMs;
        return ApStoreActor.Props(c.Self, c.Peers.Keys.ToArray(), GossipSettings.Create(c.Config), c.Network, SwimModule.RandomSeed(c) + 1, clockMs);
    }
}

/// <summary>Akka.Hosting registry key of the SWIM actor.</summary>
public sealed class DistSysSwimKey;

/// <summary>Akka.Hosting registry key of the AP store actor.</summary>
public sealed class DistSysApStoreKey;
