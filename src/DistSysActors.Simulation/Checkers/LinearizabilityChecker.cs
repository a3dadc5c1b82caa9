using System.Text;

namespace DistSysActors.Simulation.Checkers;

/// <summary>The verdict on a whole history. On failure, <see cref="Key"/> names the first key whose sub-history is not linearizable.</summary>
/// <param name="LongestPrefix">For the failing key, the longest linearizable sequence of its operations found; empty otherwise.</param>
public sealed record LinearizabilityResult(CheckOutcome Outcome, string? Key, string Explanation, IReadOnlyList<KvOperation> LongestPrefix, long Steps)
{
    public bool Ok => Outcome == CheckOutcome.Ok;

    public override string ToString() => Explanation;
}

/// <summary>
/// Checks a key-value history for linearizability. Keys are independent registers, so the history is split per key
/// and each part searched alone (linearizability is local: Herlihy and Wing 1990, Theorem 1).
/// </summary>
public static class LinearizabilityChecker
{
    /// <summary>Operations listed in a failure explanation, so it stays short.</summary>
    public const int ExplainedOperationsMax = 8;

    public static LinearizabilityResult Check(IEnumerable<KvOperation> history, CheckBudget? budget = null) =>
        Check(history, budget, simplify: true);

    /// <summary>With <paramref name="simplify"/> false, unknown-outcome writes are searched as they are (tests compare both ways).</summary>
    internal static LinearizabilityResult Check(IEnumerable<KvOperation> history, CheckBudget? budget, bool simplify)
    {
        budget ??= CheckBudget.Default;
        var byKey = new SortedDictionary<string, List<KvOperation>>(StringComparer.Ordinal);
        foreach (var op in history)
        {
            Validate(op);
            // A read whose result never came back constrains nothing and changes nothing.
            if (op.OutcomeUnknown && op.Input.Kind == KvOperationKind.Get) continue;
            if (!byKey.TryGetValue(op.Input.Key, out var ops)) byKey[op.Input.Key] = ops = [];
            ops.Add(op);
        }

        long steps = 0;
        string? unknownKey = null;
        foreach (var (key, ops) in byKey)
        {
            var remaining = budget with { StepsMax = budget.StepsMax - steps };
            var (kept, returns) = simplify ? Simplify(ops) : (ops, ops.Select(o => o.EffectiveReturnMs).ToArray());
            var register = new RegisterModel(kept, returns);
            var result = LinearizabilitySearch.Run(register.Intervals, RegisterModel.Absent, register.Step, remaining);
            steps += result.Steps;
            switch (result.Outcome)
            {
                case CheckOutcome.Illegal:
                    var prefix = result.Linearization.Select(i => kept[i]).ToArray();
                    return new LinearizabilityResult(CheckOutcome.Illegal, key, Explain(key, kept, returns, result, register), prefix, steps);
                case CheckOutcome.Unknown:
                    unknownKey ??= key;
                    if (steps >= budget.StepsMax)
                        return new LinearizabilityResult(CheckOutcome.Unknown, key,
                            $"unknown: step budget of {budget.StepsMax} ran out at key \"{key}\" ({ops.Count} operations)", [], steps);
                    break;
            }
        }
        return unknownKey is null
            ? new LinearizabilityResult(CheckOutcome.Ok, null, $"linearizable: {byKey.Count} keys, {steps} steps", [], steps)
            : new LinearizabilityResult(CheckOutcome.Unknown, unknownKey, $"unknown: cache budget ran out at key \"{unknownKey}\"", [], steps);
    }

    private static void Validate(KvOperation op)
    {
        ArgumentNullException.ThrowIfNull(op.Input.Key, "key");
        if (op.Output is not null && op.ReturnMs < op.CallMs)
            throw new ArgumentException($"operation returns before its call: {op}");
        if (op.Input.Kind is KvOperationKind.Put or KvOperationKind.Cas && op.Input.Value is null)
            throw new ArgumentException($"{op.Input.Kind} needs a value: {op}");
    }

    /// <summary>
    /// Shrinks the search space that unknown-outcome writes open (each stays pending forever otherwise), keeping the verdict:
    /// <list type="bullet">
    /// <item>an unknown write (put, cas or delete) of a value that no operation able to follow it observes (a read's result,
    /// a cas expectation, a reported current) changes nothing anyone sees wherever it lands, so it is set aside; unsafe only
    /// when a failed cas without a reported current could follow it, so then it is kept;</item>
    /// <item>an unknown write of a value written by no other operation, once observed, must precede its first observer,
    /// so its interval ends at that observer's return.</item>
    /// </list>
    /// </summary>
    private static (List<KvOperation> Kept, long[] Returns) Simplify(List<KvOperation> ops)
    {
        var firstObserverReturnMs = new Dictionary<string, long>(StringComparer.Ordinal);
        var lastObserverReturnMs = new Dictionary<string, long>(StringComparer.Ordinal);   // observers and cas expectations
        var writers = new Dictionary<string, int>(StringComparer.Ordinal);
        var lastBlindCasReturnMs = long.MinValue;
        foreach (var op in ops)
        {
            var (input, output) = (op.Input, op.Output);
            if (input.Kind != KvOperationKind.Get) writers[Written(input)] = writers.GetValueOrDefault(Written(input)) + 1;
            if (input.Kind == KvOperationKind.Cas) Observe(lastObserverReturnMs, Fact(input.Expected), op.EffectiveReturnMs, Math.Max);
            if (output is null) continue;
            if (input.Kind == KvOperationKind.Cas && !output.Swapped && !output.CurrentKnown)
                lastBlindCasReturnMs = Math.Max(lastBlindCasReturnMs, op.ReturnMs);
            var seen = input.Kind switch
            {
                KvOperationKind.Get => Fact(output.Value),
                KvOperationKind.Cas when output.Swapped => Fact(input.Expected),
                KvOperationKind.Cas when output.CurrentKnown => Fact(output.Value),
                _ => null,
            };
            if (seen is null) continue;
            Observe(firstObserverReturnMs, seen, op.ReturnMs, Math.Min);
            Observe(lastObserverReturnMs, seen, op.ReturnMs, Math.Max);
        }
        var kept = new List<KvOperation>(ops.Count);
        var returns = new List<long>(ops.Count);
        foreach (var op in ops)
        {
            var returnMs = op.EffectiveReturnMs;
            if (op.OutcomeUnknown)
            {
                var value = Written(op.Input);
                // Only operations returning after this call can be linearized after it (touching intervals count as concurrent).
                var mayFollow = lastObserverReturnMs.TryGetValue(value, out var last) && last >= op.CallMs;
                if (!mayFollow && lastBlindCasReturnMs < op.CallMs) continue;
                // "absent" is also the initial value, so a delete is never the only writer of what it writes.
                if (op.Input.Kind != KvOperationKind.Delete && writers[value] == 1 && firstObserverReturnMs.TryGetValue(value, out var first))
                    returnMs = Math.Max(op.CallMs, first);
            }
            kept.Add(op);
            returns.Add(returnMs);
        }
        return (kept, returns.ToArray());

        static string Fact(string? value) => value is null ? "absent" : "value:" + value;
        static string Written(KvInput input) => Fact(input.Kind == KvOperationKind.Delete ? null : input.Value);
        static void Observe(Dictionary<string, long> map, string key, long ms, Func<long, long, long> pick) =>
            map[key] = map.TryGetValue(key, out var known) ? pick(known, ms) : ms;
    }

    private static string Explain(string key, List<KvOperation> ops, long[] returns, SearchResult<int> result, RegisterModel register)
    {
        var text = new StringBuilder();
        var prefix = result.Linearization;
        text.Append($"not linearizable at key \"{key}\": the longest linearizable prefix has {prefix.Count} of {ops.Count} operations");
        text.Append($", leaving the value {KvInput.Quote(register.ValueOf(result.StateAfter))}");
        if (prefix.Count > 0)
        {
            text.Append("; it ends with:");
            foreach (var i in prefix.Skip(Math.Max(0, prefix.Count - ExplainedOperationsMax / 2))) text.Append("\n  ").Append(ops[i]);
        }
        // The candidates for the next step: pending operations called before the earliest pending return.
        var done = new HashSet<int>(prefix);
        var pending = Enumerable.Range(0, ops.Count).Where(i => !done.Contains(i)).ToList();
        var deadline = pending.Min(i => returns[i]);
        var candidates = pending.Where(i => ops[i].CallMs <= deadline).OrderBy(i => ops[i].CallMs).ThenBy(i => i).ToList();
        text.Append("\nnone of these can come next:");
        foreach (var i in candidates.Take(ExplainedOperationsMax)) text.Append("\n  ").Append(ops[i]);
        if (candidates.Count > ExplainedOperationsMax) text.Append($"\n  ... {candidates.Count - ExplainedOperationsMax} more");
        return text.ToString();
    }

    /// <summary>One key's register, with values interned to small integers so states compare and hash cheaply.</summary>
    private sealed class RegisterModel
    {
        public const int Absent = 0;
        private const int NoCurrent = -1;

        private readonly List<string> _values = [""];
        private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
        private readonly Compiled[] _ops;

        public RegisterModel(List<KvOperation> ops, long[] returns)
        {
            _ops = new Compiled[ops.Count];
            Intervals = new (long, long)[ops.Count];
            for (var i = 0; i < ops.Count; i++)
            {
                var op = ops[i];
                Intervals[i] = (op.CallMs, returns[i]);
                var output = op.Output;
                _ops[i] = new Compiled(
                    op.Input.Kind,
                    Id(op.Input.Value),
                    Id(op.Input.Expected),
                    output is not null,
                    output?.Swapped ?? false,
                    output is null ? NoCurrent
                        : op.Input.Kind == KvOperationKind.Get || output.CurrentKnown ? Id(output.Value) : NoCurrent);
            }
        }

        public (long CallMs, long ReturnMs)[] Intervals { get; }

        public string? ValueOf(int state) => state == Absent ? null : _values[state];

        public bool Step(int state, int index, out int next)
        {
            var op = _ops[index];
            next = state;
            switch (op.Kind)
            {
                case KvOperationKind.Put:
                    next = op.Value;
                    return true;
                case KvOperationKind.Delete:
                    next = Absent;
                    return true;
                case KvOperationKind.Get:
                    return !op.Known || op.Observed == state;
                default:
                    var matches = state == op.Expected;
                    if (!op.Known)
                    {
                        if (matches) next = op.Value;
                        return true;
                    }
                    if (op.Swapped)
                    {
                        next = op.Value;
                        return matches;
                    }
                    return !matches && (op.Observed == NoCurrent || op.Observed == state);
            }
        }

        private int Id(string? value)
        {
            if (value is null) return Absent;
            if (_ids.TryGetValue(value, out var id)) return id;
            id = _values.Count;
            _values.Add(value);
            _ids[value] = id;
            return id;
        }

        private readonly record struct Compiled(KvOperationKind Kind, int Value, int Expected, bool Known, bool Swapped, int Observed);
    }
}
