using System.Globalization;
using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Simulation.Transactions;

/// <summary>
/// The bank check's rules over durable records, whatever holds them (a node's journal in classic mode, a group's
/// committed log in replicated mode): which transactions the coordinator decided to commit, the balances that decision
/// implies, and each participant's agreement with it.
/// </summary>
public sealed class BankLedger
{
    private readonly Dictionary<TxnId, BeginRecord> _begins = new();
    private readonly Dictionary<TxnId, TxnState> _decisions = new();

    /// <summary>The problems found so far, each one line.</summary>
    public List<string> Problems { get; } = [];

    /// <summary>The transactions the coordinator began and decided to commit.</summary>
    public HashSet<TxnId> Committed { get; }

    /// <summary>Reads BEGIN and decision records from the coordinators' durable records.</summary>
    public BankLedger(IEnumerable<object> coordinatorRecords)
    {
        foreach (var record in coordinatorRecords)
            switch (record)
            {
                case BeginRecord b: _begins[b.Id] = b; break;
                case DecisionRecord d when d.State is TxnState.Committed or TxnState.Aborted: _decisions[d.Id] = d.State; break;
            }
        Committed = _begins.Keys.Where(id => _decisions.GetValueOrDefault(id) == TxnState.Committed).ToHashSet();
    }

    /// <summary>
    /// Money conserved, no account below 0 (every debit carries min 0), and every balance (read by <paramref name="value"/>)
    /// its start plus the committed transfers' deltas.
    /// </summary>
    public void CheckBalances(IReadOnlyDictionary<string, long> start, Func<string, string?> value)
    {
        var expected = start.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (var id in Committed)
            foreach (var op in _begins[id].Branches.SelectMany(b => b.Ops).OfType<AddOp>())
                if (expected.ContainsKey(op.Key)) expected[op.Key] += op.Delta;
        long total = 0;
        foreach (var (account, want) in expected)
        {
            var text = value(account);
            var actual = text is null ? 0 : long.Parse(text, CultureInfo.InvariantCulture);
            total += actual;
            if (actual < 0) Problems.Add($"{account} is {actual}, below its min 0");
            if (actual != want) Problems.Add($"{account} is {actual}, start plus committed deltas is {want}");
        }
        if (total != start.Values.Sum()) Problems.Add($"money not conserved: {total}, started with {start.Values.Sum()}");
    }

    /// <summary>
    /// Atomicity at one participant (named <paramref name="who"/>): every outcome of a transaction it prepared agrees with
    /// the coordinator's decision (<paramref name="decider"/> names the coordinator in the problem), and no step of an
    /// aborted saga stays applied without its compensation.
    /// </summary>
    public void CheckParticipant(string who, IReadOnlyList<object> records, string decider)
    {
        var prepared = new HashSet<TxnId>();
        foreach (var record in records)
            switch (record)
            {
                case PreparedRecord p: prepared.Add(p.Id); break;
                case OutcomeRecord o when prepared.Contains(o.Id) && o.Committed != Committed.Contains(o.Id):
                    Problems.Add($"{who} {(o.Committed ? "committed" : "aborted")} {o.Id}, {decider} decided {_decisions.GetValueOrDefault(o.Id)}");
                    break;
                case SagaStepRecord s when s.Applied && !Committed.Contains(s.Id) && !records.OfType<SagaCompensationRecord>().Any(x => x.Id == s.Id && x.Step == s.Step):
                    Problems.Add($"{who} applied step {s.Step} of aborted saga {s.Id} without compensating it");
                    break;
            }
    }

    /// <summary>A client's answer (<paramref name="outcome"/> of transaction <paramref name="id"/>) agrees with the log.</summary>
    public void CheckAnswer(string request, TxnId id, TxnState outcome)
    {
        if ((outcome == TxnState.Committed) != Committed.Contains(id))
            Problems.Add($"request {request} was answered {outcome}, the log says {(Committed.Contains(id) ? "committed" : "not committed")}");
    }
}
