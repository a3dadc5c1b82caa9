using Akka.Hosting;
using DistSysActors.Actors.Gossip;

namespace DistSysActors.Actors.Hosting;

/// <summary>Akka.Hosting extensions of the gossip modules.</summary>
public static class DistSysGossipHostingExtensions
{
    /// <summary>Adds SWIM membership (<see cref="DistSysSwimKey"/>) and the anti-entropy AP store (<see cref="DistSysApStoreKey"/>).</summary>
    public static AkkaConfigurationBuilder WithDistSysGossip(this AkkaConfigurationBuilder builder) =>
        builder.WithDistSysModule(new SwimModule()).WithDistSysModule(new ApStoreModule());
}
