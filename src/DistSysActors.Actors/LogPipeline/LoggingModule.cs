using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Modules;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>Registry key of the log shipper in Akka.Hosting's actor registry.</summary>
public sealed class DistSysLoggingKey;

/// <summary>The node's log shipper and store (<c>distsys.logging</c>): records queued by <see cref="NodeLog"/> land in <c>&lt;data-dir&gt;/node-I/logs.db</c>.</summary>
public sealed class LoggingModule : DistSysModule
{
    public override string Name => LogShipperActor.Name;
    public override Type RegistryKey => typeof(DistSysLoggingKey);
    public override bool IsEnabled(Config config) => LoggingSettings.Create(config).Enabled;

    public override Props CreateProps(DistSysModuleContext c)
    {
        var settings = LoggingSettings.Create(c.Config);
        var shipping = settings.Aggregated
            ? new ShippingPlan(c.Network, ReliableDelivery.DeliverySettings.Create(c.Config), Path.Combine(c.Node.NodeDataDir, settings.AggregateStoreFile))
            : null;
        return LogShipperActor.Props(Path.Combine(c.Node.NodeDataDir, settings.StoreFile), shipping);
    }
}
