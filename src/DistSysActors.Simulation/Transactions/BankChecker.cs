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
        var problems = new List<string>();
        var begins = new Dictionary<TxnId, BeginRecord>();
        var decisions = new Dictionary<TxnId, TxnState>();
        foreach (var id in c.Ids)
            foreach (var record in c.Journal(id))
                switch (record)
                {
                    case BeginRecord b: begins[b.Id] = b; break;
                    case DecisionRecord d when d.State is TxnState.Committed or TxnState.Aborted: decisions[d.Id] = d.State; break;
                }
        var committed = begins.Keys.Where(id => decisions.GetValueOrDefault(id) == TxnState.Committed).ToHashSet();

        var expected = start.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (var id in committed)
            foreach (var op in begins[id].Branches.SelectMany(b => b.Ops).OfType<AddOp>())
                if (expected.ContainsKey(op.Key)) expected[op.Key] += op.Delta;
        long total = 0;
        foreach (var (account, want) in expected)
        {
            var text = c.Value(account);
            var actual = text is null ? 0 : long.Parse(text, CultureInfo.InvariantCulture);
            total += actual;
            if (actual < 0) problems.Add($"{account} is {actual}, below its min 0");
            if (actual != want) problems.Add($"{account} is {actual}, start plus committed deltas is {want}");
        }
        if (total != start.Values.Sum()) problems.Add($"money not conserved: {total}, started with {start.Values.Sum()}");

        // Atomicity: participants' durable outcomes against the coordinator's decision.
        foreach (var node in c.Ids)
        {
            var prepared = new HashSet<TxnId>();
            foreach (var record in c.Journal(node))
                switch (record)
                {
                    case PreparedRecord p: prepared.Add(p.Id); break;
                    case OutcomeRecord o when prepared.Contains(o.Id) && o.Committed != committed.Contains(o.Id):
                        problems.Add($"participant {node} {(o.Committed ? "committed" : "aborted")} {o.Id}, its coordinator decided {decisions.GetValueOrDefault(o.Id)}");
                        break;
                    case SagaStepRecord s when s.Applied && !committed.Contains(s.Id) && !c.Journal(node).OfType<SagaCompensationRecord>().Any(x => x.Id == s.Id && x.Step == s.Step):
                        problems.Add($"participant {node} applied step {s.Step} of aborted saga {s.Id} without compensating it");
                        break;
                }
        }
        foreach (var (request, coordinator, id) in c.Started)
        {
            if (c.AnswerOf(request) is not { } answer) continue;
            if ((answer.Outcome == TxnState.Committed) != committed.Contains(id))
                problems.Add($"request {request} ({id} at {coordinator}) was answered {answer.Outcome}, the log says {(committed.Contains(id) ? "committed" : "not committed")}");
        }
        return problems;
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
