using Akka.Hosting;
using DistSysActors.Actors.Transactions;

namespace DistSysActors.Actors.Hosting;

public sealed class DistSysTxnCoordinatorKey;
public sealed class DistSysTxnParticipantKey;

public static class DistSysTxnHosting
{
    /// <summary>
    /// Adds distributed transactions: a participant and a coordinator actor (<see cref="DistSysTxnParticipantKey"/>,
    /// <see cref="DistSysTxnCoordinatorKey"/>), configured by <c>distsys.txn</c>.
    /// </summary>
    public static AkkaConfigurationBuilder WithDistSysTransactions(this AkkaConfigurationBuilder builder)
    {
        foreach (var module in TxnRoleModule.Both) builder.WithDistSysModule(module);
        return builder;
    }
}
