using Akka.Hosting;
using DistSysActors.Actors.Election.Singleton;

namespace DistSysActors.Actors.Hosting;

/// <summary>Akka.Hosting extension for Akka's Cluster Singleton as the election reference (<c>distsys.singleton</c>).</summary>
public static class DistSysSingletonHosting
{
    /// <summary>
    /// Adds <c>/user/distsys/singleton</c>: a ClusterSingletonManager running the counting singleton on the oldest member
    /// and a proxy to it, registered under <see cref="DistSysSingletonKey"/>. Needs Akka.Cluster (e.g. Akka.Cluster.Hosting's
    /// WithClustering); on a local actor system it is not started.
    /// </summary>
    public static AkkaConfigurationBuilder WithDistSysSingleton(this AkkaConfigurationBuilder builder) => builder.WithDistSysModule(new SingletonModule());
}
