using Akka.Actor;
using Akka.Configuration;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Modules;
using DistSysActors.Core.Transactions;

namespace DistSysActors.Actors.Transactions;

/// <summary>One role of distributed transactions (<c>POST /txn</c>, <c>distsys.txn</c>): its own actor on every node.</summary>
public sealed class TxnRoleModule(Txn.Role role) : DistSysModule
{
    public Txn.Role Role { get; } = role;
    public override string Name => $"txn-{TxnRoleActor.RoleName(Role)}";
    public override Type RegistryKey => Role == Txn.Role.Coordinator ? typeof(DistSysTxnCoordinatorKey) : typeof(DistSysTxnParticipantKey);
    public override bool IsEnabled(Config config) => TxnSettings.Create(config) is { Enabled: true, Mode: TxnSettings.Classic };

    public override Props CreateProps(DistSysModuleContext c) =>
        TxnRoleActor.Props(Role, c.Self, c.Peers.Keys.ToArray(), TxnSettings.Create(c.Config), c.Network);

    /// <summary>The participant first: a coordinator's first PREPARE then finds it registered.</summary>
    public static IReadOnlyList<DistSysModule> Both { get; } = [new TxnRoleModule(Txn.Role.Participant), new TxnRoleModule(Txn.Role.Coordinator)];
}
