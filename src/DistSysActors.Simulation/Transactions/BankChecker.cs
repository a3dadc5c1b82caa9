using System.Globalization;
using DistSysActors.Core;
using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Simulation.Transactions;

/// <summary>
/// The bank check, run once every transaction has settled: read from the durable logs alone which transactions the
/// coordinators decided to commit, then check that (1) the money is conserved, (2) no account is below 0 (every debit
/// carries min 0), (3) every balance equals its start plus the committed transfers' deltas, (4) atomicity: every
/// participant's outcome agrees with its coordinator's decision, and (5) every answer a client got agrees with it.
/// </summary>
public static class BankChecker
{
    public static IReadOnlyList<string> Check(TxnSimCluster c, IReadOnlyDictionary<string, long> start)
    {
        var ledger = new BankLedger(c.Ids.SelectMany(c.Journal));
        ledger.CheckBalances(start, c.Value);
        foreach (var node in c.Ids) ledger.CheckParticipant($"participant {node}", c.Journal(node), "its coordinator");
        foreach (var (request, coordinator, id) in c.Started)
            if (c.AnswerOf(request) is { } answer) ledger.CheckAnswer($"{request} ({id} at {coordinator})", id, answer.Outcome);
        return ledger.Problems;
    }

    /// <summary>Funds <paramref name="accounts"/> accounts with <paramref name="balance"/> each through one 2PC transaction at node 1, without faults.</summary>
    public static Dictionary<string, long> Fund(TxnSimCluster c, int accounts, long balance)
    {
        var start = Enumerable.Range(0, accounts).ToDictionary(i => $"acct{i}", _ => balance, StringComparer.Ordinal);
        var begun = c.Begin(c.Ids[0], TxnProtocol.TwoPhase, [.. start.Keys.Select(k => (TxnOp)new PutOp(k, balance.ToString(CultureInfo.InvariantCulture)))]);
        if (!c.Sim.RunUntil(() => c.AnswerOf(begun!.Value.Request) is { Outcome: TxnState.Committed }, 10_000)) throw new InvalidOperationException("funding did not commit");
        c.Sim.RunUntil(c.Settled, 5_000);
        return start;
    }
}
