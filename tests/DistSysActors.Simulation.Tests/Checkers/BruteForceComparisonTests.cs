using DistSysActors.Core;
using DistSysActors.Simulation.Checkers;

namespace DistSysActors.Simulation.Tests.Checkers;

/// <summary>
/// Small random histories (mostly not linearizable) judged three ways must agree: the checker, the checker without its
/// unknown-write simplifications, and an exhaustive search over every order the real-time constraints allow.
/// </summary>
public class BruteForceComparisonTests
{
    private static readonly string?[] Values = [null, "a", "b"];

    private static List<KvOperation> RandomHistory(DeterministicRandom random)
    {
        var count = random.NextInt(2, 8);
        var history = new List<KvOperation>();
        for (var i = 0; i < count; i++)
        {
            var callMs = random.NextInt(0, 20);
            var returnMs = callMs + random.NextInt(0, 8);
            // Unique values exercise the checker's set-aside and bounding of unknown writes.
            var value = random.Chance(0.4) ? $"u{i}" : Values[random.NextInt(1, 3)]!;
            var seen = random.Chance(0.3) ? $"u{random.NextInt(0, count)}" : Values[random.NextInt(0, 3)];
            var (input, output) = random.NextInt(0, 4) switch
            {
                0 => (KvInput.Put("k", value), KvOutput.Ack),
                1 => (KvInput.Get("k"), KvOutput.Read(seen)),
                2 => (KvInput.Delete("k"), KvOutput.Ack),
                _ => (KvInput.Cas("k", Values[random.NextInt(0, 3)], value),
                    random.Chance(0.5) ? KvOutput.SwappedOk : random.Chance(0.5) ? KvOutput.NotSwapped(seen) : KvOutput.NotSwappedCurrentUnknown),
            };
            history.Add(random.Chance(0.3) ? KvOperation.Unknown(i, input, callMs) : new KvOperation(i, input, callMs, returnMs, output));
        }
        return history;
    }

    /// <summary>Tries every next operation that no pending operation's return forbids; no memoization, no simplification.</summary>
    private static bool Exhaustive(List<KvOperation> pending, string? state)
    {
        if (pending.Count == 0) return true;
        var deadline = pending.Min(o => o.EffectiveReturnMs);
        foreach (var op in pending.Where(o => o.CallMs <= deadline).ToList())
        {
            var rest = pending.Where(o => !ReferenceEquals(o, op)).ToList();
            foreach (var next in Outcomes(op, state))
                if (Exhaustive(rest, next)) return true;
        }
        return false;
    }

    /// <summary>The states <paramref name="op"/> may leave behind from <paramref name="state"/>, none if its output is impossible.</summary>
    private static IEnumerable<string?> Outcomes(KvOperation op, string? state)
    {
        var output = op.Output;
        switch (op.Input.Kind)
        {
            case KvOperationKind.Put: yield return op.Input.Value; break;
            case KvOperationKind.Delete: yield return null; break;
            case KvOperationKind.Get:
                if (output is null || output.Value == state) yield return state;
                break;
            default:
                var matches = op.Input.Expected == state;
                if (output is null) yield return matches ? op.Input.Value : state;
                else if (output.Swapped) { if (matches) yield return op.Input.Value; }
                else if (!matches && (!output.CurrentKnown || output.Value == state)) yield return state;
                break;
        }
    }

    [Fact]
    public void Checker_agrees_with_exhaustive_search_on_small_random_histories()
    {
        SeedRunner.Run(3, seed =>
        {
            var random = new DeterministicRandom(seed);
            var verdicts = new int[2];
            for (var i = 0; i < 1_500; i++)
            {
                var history = RandomHistory(random);
                var expected = Exhaustive(history.Where(o => !(o.OutcomeUnknown && o.Input.Kind == KvOperationKind.Get)).ToList(), null);
                verdicts[expected ? 1 : 0]++;
                var describe = $"seed={seed} history {i}:\n  " + string.Join("\n  ", history);
                var simplified = LinearizabilityChecker.Check(history);
                Assert.True(simplified.Ok == expected && simplified.Outcome != CheckOutcome.Unknown, $"{describe}\nexpected ok={expected}, got {simplified.Explanation}");
                var plain = LinearizabilityChecker.Check(history, null, simplify: false);
                Assert.True(plain.Ok == expected && plain.Outcome != CheckOutcome.Unknown, $"{describe}\nexpected ok={expected}, unsimplified got {plain.Explanation}");
            }
            Assert.True(verdicts[0] > 100 && verdicts[1] > 100, $"seed={seed}: unbalanced sample {verdicts[0]} illegal / {verdicts[1]} ok");
        });
    }
}
