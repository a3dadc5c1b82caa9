using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Modules;

namespace DistSysActors.Actors.Transactions.Replicated;

/// <summary>Registry key of the replicated-mode transaction actor.</summary>
public sealed class DistSysTxnReplicatedKey;

/// <summary>Distributed transactions in replicated mode (<c>distsys.txn.mode = replicated</c>): one actor per node, a replica of every group.</summary>
public sealed class ReplicatedTxnModule : DistSysModule
{
    public override string Name => "txn-replicated";
    public override Type RegistryKey => typeof(DistSysTxnReplicatedKey);
    public override bool IsEnabled(Config config) => TxnSettings.Create(config) is { Enabled: true, Mode: TxnSettings.Replicated };

    public override Props CreateProps(DistSysModuleContext c) =>
        ReplicatedTxnActor.Props(c.Self, c.Peers.Keys.ToArray(), TxnSettings.Create(c.Config), RaftTimingOf(c.Config), c.Network);

    /// <summary>distsys.txn.replicated-election-timeout-ms and replicated-heartbeat-ms.</summary>
    public static (int ElectionTimeoutMs, int HeartbeatMs) RaftTimingOf(Config config)
    {
        var c = config.GetConfig(TxnSettings.Section) ?? throw new ConfigurationException($"{TxnSettings.Section} is missing");
        return (ConfigReader.Int(c, TxnSettings.Section, "replicated-election-timeout-ms", 50, 600_000),
            ConfigReader.Int(c, TxnSettings.Section, "replicated-heartbeat-ms", 1, 60_000));
    }
}
