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
        var problems = new List<string>();
        var begins = new Dictionary<TxnId, BeginRecord>();
        var decisions = new Dictionary<TxnId, TxnState>();
        foreach (var record in c.CommittedRecords(TxnGroups.Coordinator))
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

        foreach (var shard in c.Groups.Shards)
        {
            var records = c.CommittedRecords(shard);
            var prepared = new HashSet<TxnId>();
            foreach (var record in records)
                switch (record)
                {
                    case PreparedRecord p: prepared.Add(p.Id); break;
                    case OutcomeRecord o when prepared.Contains(o.Id) && o.Committed != committed.Contains(o.Id):
                        problems.Add($"{TxnGroups.Name(shard)} {(o.Committed ? "committed" : "aborted")} {o.Id}, the coordinating group decided {decisions.GetValueOrDefault(o.Id)}");
                        break;
                    case SagaStepRecord s when s.Applied && !committed.Contains(s.Id) && !records.OfType<SagaCompensationRecord>().Any(x => x.Id == s.Id && x.Step == s.Step):
                        problems.Add($"{TxnGroups.Name(shard)} applied step {s.Step} of aborted saga {s.Id} without compensating it");
                        break;
                }
        }
        foreach (var (request, at) in c.Started)
        {
            if (c.OutcomeOf(request) is not { } answer) continue;
            if ((answer.Outcome == TxnState.Committed) != committed.Contains(answer.Id))
                problems.Add($"request {request} (at {at}, {answer.Id}) was answered {answer.Outcome}, the log says {(committed.Contains(answer.Id) ? "committed" : "not committed")}");
        }
        return problems;
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
