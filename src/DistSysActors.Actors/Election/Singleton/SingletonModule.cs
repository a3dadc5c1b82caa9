using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Modules;

namespace DistSysActors.Actors.Election.Singleton;

/// <summary>The Akka Cluster Singleton on every node (<c>distsys.singleton</c>), as <c>/user/distsys/singleton</c>; only on Akka.Cluster.</summary>
public sealed class SingletonModule : DistSysModule
{
    public override string Name => "singleton";
    public override Type RegistryKey => typeof(DistSysSingletonKey);
    public override bool IsEnabled(Config config) => SingletonSettings.IsClusterProvider(config) && SingletonSettings.Create(config).Enabled;

    public override Props CreateProps(DistSysModuleContext c)
    {
        var settings = SingletonSettings.Create(c.Config);
        return SingletonHostActor.Props(c.Node.Id, settings, settings.LedgerPath(c.Node), static () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }
}

/// <summary>The registry key of the singleton host in Akka.Hosting's actor registry.</summary>
public sealed class DistSysSingletonKey;
