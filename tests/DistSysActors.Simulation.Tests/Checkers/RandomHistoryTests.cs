using DistSysActors.Core;
using DistSysActors.Simulation.Checkers;

namespace DistSysActors.Simulation.Tests.Checkers;

/// <summary>
/// Histories recorded from a real sequential execution, with each operation's interval stretched around its
/// linearization point, must always pass; the same history with one read changed to a value nobody wrote must fail.
/// </summary>
public class RandomHistoryTests
{
    private sealed record Generated(List<KvOperation> History, List<int> CompletedReads);

    private static Generated Generate(long seed, int operations, int clients, string[] keys, double unknownRate, bool uniqueValues = false)
    {
        var random = new DeterministicRandom(seed);
        var store = new Dictionary<string, string?>(StringComparer.Ordinal);
        var freeAtMs = new long[clients];
        var history = new List<KvOperation>();
        var reads = new List<int>();
        long nowMs = 0;
        for (var n = 0; n < operations; n++)
        {
            nowMs += random.NextInt(1, 4);
            var client = random.NextInt(0, clients);
            if (freeAtMs[client] > nowMs) nowMs = freeAtMs[client];
            var key = keys[random.NextInt(0, keys.Length)];
            var callMs = Math.Max(freeAtMs[client], nowMs - random.NextInt(0, 15));   // the linearization point is nowMs
            var returnMs = nowMs + random.NextInt(0, 15);
            freeAtMs[client] = returnMs + 1;
            var current = store.GetValueOrDefault(key);
            var value = uniqueValues ? $"u{n}" : $"v{random.NextInt(0, 6)}";
            KvInput input;
            KvOutput output;
            switch (random.NextInt(0, 10))
            {
                case < 4:
                    input = KvInput.Get(key);
                    output = KvOutput.Read(current);
                    break;
                case < 7:
                    input = KvInput.Put(key, value);
                    output = KvOutput.Ack;
                    break;
                case < 8:
                    input = KvInput.Delete(key);
                    output = KvOutput.Ack;
                    break;
                default:
                    var expected = random.Chance(0.5) ? current : random.Chance(0.3) ? null : $"v{random.NextInt(0, 6)}";
                    input = KvInput.Cas(key, expected, value);
                    output = expected == current ? KvOutput.SwappedOk : KvOutput.NotSwapped(current);
                    break;
            }
            var unknown = input.Kind != KvOperationKind.Get && random.Chance(unknownRate);
            var applied = !unknown || random.Chance(0.5);
            if (applied)
            {
                switch (input.Kind)
                {
                    case KvOperationKind.Put: store[key] = input.Value; break;
                    case KvOperationKind.Delete: store[key] = null; break;
                    case KvOperationKind.Cas when input.Expected == current: store[key] = input.Value; break;
                }
            }
            // An unknown operation that never took effect is linearized after everything, where it changes nothing observed.
            if (unknown && !applied && input.Kind == KvOperationKind.Cas) input = input with { Expected = "never-matches" };
            if (unknown && !applied && input.Kind is KvOperationKind.Put or KvOperationKind.Delete)
            {
                history.Add(KvOperation.Unknown(client, input, callMs));
                continue;
            }
            if (input.Kind == KvOperationKind.Get) reads.Add(history.Count);
            history.Add(unknown ? KvOperation.Unknown(client, input, callMs) : new KvOperation(client, input, callMs, returnMs, output));
        }
        return new Generated(history, reads);
    }

    [Fact]
    public void Histories_from_a_sequential_execution_always_pass()
    {
        SeedRunner.Run(60, seed =>
        {
            var generated = Generate(seed, operations: 300, clients: 5, keys: ["a", "b", "c"], unknownRate: 0.05);
            var result = LinearizabilityChecker.Check(generated.History);
            Assert.True(result.Ok, $"seed={seed}: {result.Explanation}");
        });
    }

    [Fact]
    public void Histories_with_one_read_changed_to_an_unwritten_value_always_fail()
    {
        SeedRunner.Run(60, seed =>
        {
            var generated = Generate(seed, operations: 300, clients: 5, keys: ["a", "b", "c"], unknownRate: 0.05);
            var random = new DeterministicRandom(seed);
            var index = generated.CompletedReads[random.NextInt(0, generated.CompletedReads.Count)];
            var history = generated.History.ToList();
            history[index] = history[index] with { Output = KvOutput.Read("never-written") };
            var result = LinearizabilityChecker.Check(history);
            Assert.True(result.Outcome == CheckOutcome.Illegal, $"seed={seed}: mutated read {history[index]} accepted: {result.Explanation}");
            Assert.Equal(history[index].Input.Key, result.Key);
        });
    }

    [Fact]
    public void Histories_with_a_read_that_travels_back_in_time_fail()
    {
        // Replace a read's result with the value the key held before an earlier completed write, with no overlap to hide it.
        SeedRunner.Run(30, seed =>
        {
            var put1 = new KvOperation(9, KvInput.Put("k", "old"), 0, 1, KvOutput.Ack);
            var generated = Generate(seed, operations: 200, clients: 4, keys: ["k"], unknownRate: 0);
            var history = new List<KvOperation> { put1, new(9, KvInput.Delete("k"), 2, 3, KvOutput.Ack) };
            history.AddRange(generated.History.Select(o => o with { CallMs = o.CallMs + 10, ReturnMs = o.ReturnMs + 10 }));
            var last = history.Max(o => o.ReturnMs);
            history.Add(new KvOperation(9, KvInput.Put("k", "new"), last + 10, last + 11, KvOutput.Ack));
            Assert.True(LinearizabilityChecker.Check(history).Ok, $"seed={seed}");
            history.Add(new KvOperation(9, KvInput.Get("k"), last + 20, last + 21, KvOutput.Read("old")));
            Assert.Equal(CheckOutcome.Illegal, LinearizabilityChecker.Check(history).Outcome);
        });
    }

    [Theory]
    [InlineData(4_000, false, 0.0)]
    [InlineData(2_000, true, 0.02)]
    public void Thousands_of_operations_on_one_key_stay_within_a_small_step_budget(int operations, bool uniqueValues, double unknownRate)
    {
        // Unknown writes that stay ambiguous multiply the search by two each, so the failing check costs more with them.
        var generated = Generate(seed: 2024, operations, clients: 8, keys: ["hot"], unknownRate, uniqueValues);
        var budget = new CheckBudget { StepsMax = 2_000_000 };
        var result = LinearizabilityChecker.Check(generated.History, budget);
        Assert.True(result.Ok, result.Explanation);

        var mutated = generated.History.ToList();
        var index = generated.CompletedReads[generated.CompletedReads.Count / 2];
        mutated[index] = mutated[index] with { Output = KvOutput.Read("never-written") };
        var failed = LinearizabilityChecker.Check(mutated, budget);
        Assert.True(failed.Outcome == CheckOutcome.Illegal, failed.Explanation);
    }

    [Fact]
    public void Histories_with_unique_values_and_unknown_writes_pass_and_mutants_fail()
    {
        SeedRunner.Run(40, seed =>
        {
            var generated = Generate(seed, operations: 400, clients: 6, keys: ["a", "b"], unknownRate: 0.1, uniqueValues: true);
            var result = LinearizabilityChecker.Check(generated.History);
            Assert.True(result.Ok, $"seed={seed}: {result.Explanation}");
            var mutated = generated.History.ToList();
            var index = generated.CompletedReads[new DeterministicRandom(seed).NextInt(0, generated.CompletedReads.Count)];
            mutated[index] = mutated[index] with { Output = KvOutput.Read("never-written") };
            Assert.True(LinearizabilityChecker.Check(mutated).Outcome == CheckOutcome.Illegal, $"seed={seed}: mutant accepted");
        });
    }
}
