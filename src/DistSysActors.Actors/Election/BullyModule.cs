using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Modules;

namespace DistSysActors.Actors.Election;

/// <summary>The Bully election on every node (<c>distsys.bully</c>), as <c>/user/distsys/bully</c>.</summary>
public sealed class BullyModule : DistSysModule
{
    public override string Name => "bully";
    public override Type RegistryKey => typeof(DistSysBullyKey);
    public override bool IsEnabled(Config config) => BullySettings.Create(config).Enabled;

    public override Props CreateProps(DistSysModuleContext c) =>
        BullyActor.Props(c.Self, c.Peers.Keys.ToArray(), c.Network, BullySettings.Create(c.Config));
}
