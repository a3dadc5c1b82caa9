using Akka.Actor;
using Akka.Configuration;
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
        ReplicatedTxnActor.Props(c.Self, c.Peers.Keys.ToArray(), TxnSettings.Create(c.Config), c.Network);
}
