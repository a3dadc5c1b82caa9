using DistSysActors.Core.Network;
using DistSysActors.Core.Transactions;
using DistSysActors.Simulation.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Simulation.Tests.Transactions;

/// <summary>
/// The bank check in replicated mode: concurrent transfers taken at random nodes under loss, duplication, reordering
/// and crashes (each node at most briefly down; a majority of each group mostly up), then, once everything settled, the
/// checks of <see cref="ReplicatedBankChecker"/>. <c>DISTSYS_SEEDS=N</c> runs more seeds.
/// </summary>
public sealed class ReplicatedBankSimulationTests
{
    [Fact]
    public void ReplicatedBank_two_phase_commit_conserves_money_under_loss_duplication_and_crashes() =>
        FaultTally.Run(4, SimFaults.Crash | SimFaults.Drop | SimFaults.Duplicate, seed => RunBank(seed, TxnProtocol.TwoPhase));

    [Fact]
    public void ReplicatedBank_sagas_conserve_money_under_loss_duplication_and_crashes() =>
        FaultTally.Run(3, SimFaults.Crash | SimFaults.Drop | SimFaults.Duplicate, seed => RunBank(seed, TxnProtocol.Saga));

    internal static SimFaultCounters RunBank(long seed, TxnProtocol protocol, int accounts = 6, int transfers = 40)
    {
        var c = new ReplicatedTxnSimCluster(new SimulatorOptions { Seed = seed, TickIntervalMs = 10 }, 3, 3, BankSimulationTests.SimConfig);
        var start = ReplicatedBankChecker.Fund(c, accounts, 100);
        var random = c.Sim.ForkRandom();
        c.Sim.SetFaults(new FaultSpec { DropRate = 0.05, DuplicateRate = 0.05, DelayMinMs = 0, DelayMaxMs = 10, Reorder = true });
        for (var i = 0; i < transfers; i++)
        {
            BankSimulationTests.BeginRandomTransfer(random, accounts, c.Ids, (at, ops) => c.Begin(at, protocol, ops));
            c.Sim.RunFor(random.NextInt(1, 60));
            var target = c.Ids[random.NextInt(0, c.Ids.Length)];
            // At most one node down at a time: every group keeps a majority, so nothing may block.
            if (c.Ids.All(c.Sim.IsUp) && random.Chance(0.08)) c.Sim.Crash(target);
            else if (!c.Sim.IsUp(target) && random.Chance(0.3)) c.Sim.Restart(target);
        }
        c.Sim.ClearFaults();
        // Settles with the crashed node still down: a majority of every group is enough.
        Assert.True(c.Sim.RunUntil(c.Settled, 60_000), $"seed={seed}: transactions did not settle");
        foreach (var id in c.Ids.Where(id => !c.Sim.IsUp(id))) c.Sim.Restart(id);
        Assert.True(c.Sim.RunUntil(c.Settled, 30_000), $"seed={seed}: not settled after the restarts");
        var problems = ReplicatedBankChecker.Check(c, start);
        Assert.True(problems.Count == 0, $"seed={seed}: {string.Join("; ", problems)}");
        Assert.True(c.Started.Count(s => c.OutcomeOf(s.Request) is { Outcome: TxnState.Committed }) > 1, $"seed={seed}: almost nothing committed");
        return c.Sim.FaultCounters;
    }
}
