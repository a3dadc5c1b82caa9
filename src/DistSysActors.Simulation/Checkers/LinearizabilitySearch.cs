using DistSysActors.Core;

namespace DistSysActors.Simulation.Checkers;

/// <summary>Limits on one linearizability check, so a pathological history reports <see cref="CheckOutcome.Unknown"/> instead of hanging.</summary>
public sealed record CheckBudget
{
    public static readonly CheckBudget Default = new();

    /// <summary>Search steps (one candidate tried or one backtrack) over the whole check.</summary>
    public long StepsMax { get; init; } = 20_000_000;

    /// <summary>Memory of the memoization cache, in 64-bit words (bitset words plus one per entry), per key partition.</summary>
    public long CacheWordsMax { get; init; } = 32_000_000;
}

public enum CheckOutcome
{
    /// <summary>A linearization exists.</summary>
    Ok,
    /// <summary>No linearization exists: the history is not linearizable.</summary>
    Illegal,
    /// <summary>The budget ran out before an answer.</summary>
    Unknown,
}

/// <summary>Decides whether a state machine accepts operation <c>op</c> in <c>state</c>, and the state it leads to.</summary>
public delegate bool SequentialStep<TState>(TState state, int op, out TState next);

/// <summary>What the search found for one partition.</summary>
/// <param name="Linearization">Operation indices in linearization order: complete when <see cref="CheckOutcome.Ok"/>, else the longest linearizable prefix found.</param>
/// <param name="StateAfter">The model state after <see cref="Linearization"/>.</param>
public sealed record SearchResult<TState>(CheckOutcome Outcome, IReadOnlyList<int> Linearization, TState StateAfter, long Steps);

/// <summary>
/// Wing and Gong's backtracking search for a linearization ("Testing and verifying concurrent objects", 1993) with
/// Lowe's memoization ("Testing for linearizability", 2017): a configuration (set of linearized operations, model state)
/// seen once is never explored again. Operations are intervals; an operation with an unknown outcome has
/// <c>ReturnMs = long.MaxValue</c>, so it may be linearized anywhere after its call, including after everything else.
/// </summary>
public static class LinearizabilitySearch
{
    public const int OperationsMax = 1_000_000;

    public static SearchResult<TState> Run<TState>(
        IReadOnlyList<(long CallMs, long ReturnMs)> intervals,
        TState initial,
        SequentialStep<TState> step,
        CheckBudget budget,
        IEqualityComparer<TState>? stateComparer = null)
    {
        var n = intervals.Count;
        if (n > OperationsMax) throw new ArgumentException($"at most {OperationsMax} operations per partition, got {n}", nameof(intervals));
        if (n == 0) return new SearchResult<TState>(CheckOutcome.Ok, [], initial, 0);
        stateComparer ??= EqualityComparer<TState>.Default;

        // Entry list: index 0 is the head sentinel, 1..2n are call and return events ordered by time,
        // calls before returns at equal times (touching intervals count as concurrent).
        var order = new int[2 * n];
        for (var i = 0; i < 2 * n; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            var ta = a < n ? intervals[a].CallMs : intervals[a - n].ReturnMs;
            var tb = b < n ? intervals[b].CallMs : intervals[b - n].ReturnMs;
            if (ta != tb) return ta.CompareTo(tb);
            var ka = a < n ? 0 : 1;
            var kb = b < n ? 0 : 1;
            return ka != kb ? ka.CompareTo(kb) : a.CompareTo(b);
        });
        var size = 2 * n + 1;
        var next = new int[size];
        var prev = new int[size];
        var opOf = new int[size];
        var isCall = new bool[size];
        var returnEntry = new int[n];
        for (var i = 0; i < 2 * n; i++)
        {
            var e = i + 1;
            var raw = order[i];
            isCall[e] = raw < n;
            opOf[e] = raw < n ? raw : raw - n;
            if (!isCall[e]) returnEntry[opOf[e]] = e;
        }
        for (var e = 0; e < size; e++)
        {
            next[e] = e + 1 < size ? e + 1 : -1;
            prev[e] = e - 1;
        }

        var words = (n + 63) / 64;
        var linearized = new ulong[words];
        var zobrist = new ulong[n];
        var random = new DeterministicRandom(0x5EED);
        for (var i = 0; i < n; i++) zobrist[i] = random.NextUInt64();
        ulong bitsHash = 0;
        var cache = new HashSet<CacheEntry<TState>>(new CacheComparer<TState>(stateComparer));
        long cacheWords = 0;

        var stack = new Stack<(int Entry, TState State)>();
        var best = Array.Empty<int>();
        var bestState = initial;
        var state = initial;
        long steps = 0;
        var entry = next[0];

        while (next[0] != -1)
        {
            if (steps >= budget.StepsMax) return Stop(CheckOutcome.Unknown);
            steps++;
            if (isCall[entry])
            {
                var op = opOf[entry];
                if (step(state, op, out var after))
                {
                    linearized[op >> 6] |= 1UL << (op & 63);
                    var hash = bitsHash ^ zobrist[op];
                    var probe = new CacheEntry<TState>(linearized, after, hash);
                    if (!cache.Contains(probe))
                    {
                        cacheWords += words + 1;
                        if (cacheWords > budget.CacheWordsMax) return Stop(CheckOutcome.Unknown);
                        cache.Add(probe with { Bits = (ulong[])linearized.Clone() });
                        stack.Push((entry, state));
                        state = after;
                        bitsHash = hash;
                        Lift(entry);
                        entry = next[0];
                        continue;
                    }
                    linearized[op >> 6] &= ~(1UL << (op & 63));
                }
                entry = next[entry];
            }
            else
            {
                // A return reached before its operation was linearized: undo the most recent choice.
                if (stack.Count > best.Length) (best, bestState) = (StackOps(), state);
                if (stack.Count == 0) return new SearchResult<TState>(CheckOutcome.Illegal, best, bestState, steps);
                var (top, before) = stack.Pop();
                var op = opOf[top];
                linearized[op >> 6] &= ~(1UL << (op & 63));
                bitsHash ^= zobrist[op];
                state = before;
                Unlift(top);
                entry = next[top];
            }
        }
        return new SearchResult<TState>(CheckOutcome.Ok, StackOps(), state, steps);

        SearchResult<TState> Stop(CheckOutcome outcome) =>
            stack.Count > best.Length
                ? new SearchResult<TState>(outcome, StackOps(), state, steps)
                : new SearchResult<TState>(outcome, best, bestState, steps);

        int[] StackOps()
        {
            var ops = new int[stack.Count];
            var i = ops.Length;
            foreach (var (e, _) in stack) ops[--i] = opOf[e];
            return ops;
        }

        void Lift(int call)
        {
            next[prev[call]] = next[call];
            if (next[call] != -1) prev[next[call]] = prev[call];
            var ret = returnEntry[opOf[call]];
            next[prev[ret]] = next[ret];
            if (next[ret] != -1) prev[next[ret]] = prev[ret];
        }

        void Unlift(int call)
        {
            var ret = returnEntry[opOf[call]];
            next[prev[ret]] = ret;
            if (next[ret] != -1) prev[next[ret]] = ret;
            next[prev[call]] = call;
            if (next[call] != -1) prev[next[call]] = call;
        }
    }

    private readonly record struct CacheEntry<TState>(ulong[] Bits, TState State, ulong Hash);

    private sealed class CacheComparer<TState>(IEqualityComparer<TState> states) : IEqualityComparer<CacheEntry<TState>>
    {
        public bool Equals(CacheEntry<TState> x, CacheEntry<TState> y) =>
            x.Hash == y.Hash && states.Equals(x.State, y.State) && x.Bits.AsSpan().SequenceEqual(y.Bits);

        public int GetHashCode(CacheEntry<TState> e) =>
            (int)(e.Hash ^ (e.Hash >> 32)) ^ (e.State is null ? 0 : states.GetHashCode(e.State) * -1640531527);
    }
}
