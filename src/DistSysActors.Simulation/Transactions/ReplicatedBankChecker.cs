using System.Globalization;
using DistSysActors.Core.Transactions;
using DistSysActors.Core.Transactions.Replicated;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Simulation.Transactions;

/// <summary>
/// <see cref="BankChecker"/>'s checks in replicated mode, reading the groups' committed logs instead of nodes' journals:
/// money conserved, no account below 0, every balance its start plus the committed transfers' deltas, every shard's
/// outcome agreeing with the coordinating group's decision, every client outcome agreeing with the log.
/// </summary>
public static class ReplicatedBankChecker
{
    public static IReadOnlyList<string> Check(ReplicatedTxnSimCluster c, IReadOnlyDictionary<string, long> start)
    {
        var ledger = new BankLedger(c.CommittedRecords(TxnGroups.Coordinator));
        ledger.CheckBalances(start, c.Value);
        foreach (var shard in c.Groups.Shards) ledger.CheckParticipant(TxnGroups.Name(shard), c.CommittedRecords(shard), "the coordinating group");
        foreach (var (request, at) in c.Started)
            if (c.OutcomeOf(request) is { } answer) ledger.CheckAnswer($"{request} (at {at}, {answer.Id})", answer.Id, answer.Outcome);
        return ledger.Problems;
    }

    /// <summary>Funds the accounts through one 2PC transaction at the first node, without faults, once every group acts.</summary>
    public static Dictionary<string, long> Fund(ReplicatedTxnSimCluster c, int accounts, long balance)
    {
        if (!c.Sim.RunUntil(c.Settled, 10_000)) throw new InvalidOperationException("the groups elected no leaders");
        var start = Enumerable.Range(0, accounts).ToDictionary(i => $"acct{i}", _ => balance, StringComparer.Ordinal);
        var request = c.Begin(c.Ids[0], TxnProtocol.TwoPhase, [.. start.Keys.Select(k => (TxnOp)new PutOp(k, balance.ToString(CultureInfo.InvariantCulture)))]);
        if (!c.Sim.RunUntil(() => c.OutcomeOf(request!.Value) is { Outcome: TxnState.Committed }, 10_000)) throw new InvalidOperationException("funding did not commit");
        c.Sim.RunUntil(c.Settled, 5_000);
        return start;
    }
}
