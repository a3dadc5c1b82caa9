using DistSysActors.Simulation.Checkers;

namespace DistSysActors.Simulation.Tests.Checkers;

public class LinearizabilityCheckerTests
{
    private const string K = "k";

    private static KvOperation Put(int client, string value, long call, long ret) => new(client, KvInput.Put(K, value), call, ret, KvOutput.Ack);
    private static KvOperation Get(int client, string? seen, long call, long ret) => new(client, KvInput.Get(K), call, ret, KvOutput.Read(seen));
    private static KvOperation Del(int client, long call, long ret) => new(client, KvInput.Delete(K), call, ret, KvOutput.Ack);
    private static KvOperation Cas(int client, string? expected, string value, bool swapped, long call, long ret, string? current = null) =>
        new(client, KvInput.Cas(K, expected, value), call, ret, swapped ? KvOutput.SwappedOk : KvOutput.NotSwapped(current));

    private static void Linearizable(params KvOperation[] history)
    {
        var result = LinearizabilityChecker.Check(history);
        Assert.True(result.Ok, result.Explanation);
    }

    private static LinearizabilityResult NotLinearizable(params KvOperation[] history)
    {
        var result = LinearizabilityChecker.Check(history);
        Assert.Equal(CheckOutcome.Illegal, result.Outcome);
        Assert.Equal(K, result.Key);
        return result;
    }

    [Fact]
    public void Empty_history_is_linearizable() => Assert.True(LinearizabilityChecker.Check([]).Ok);

    [Fact]
    public void Sequential_history_of_every_operation_is_linearizable() => Linearizable(
        Get(1, null, 0, 1),
        Put(1, "a", 2, 3),
        Get(1, "a", 4, 5),
        Cas(1, "a", "b", swapped: true, 6, 7),
        Cas(1, "a", "c", swapped: false, 8, 9, current: "b"),
        Get(1, "b", 10, 11),
        Del(1, 12, 13),
        Get(1, null, 14, 15),
        Cas(1, null, "d", swapped: true, 16, 17),
        Get(1, "d", 18, 19));

    [Fact]
    public void Reads_concurrent_with_a_write_may_see_either_value_but_never_go_back() 
    {
        Linearizable(Put(1, "a", 0, 100), Get(2, null, 10, 20), Get(3, "a", 30, 40), Get(2, "a", 50, 60));
        Linearizable(Put(1, "a", 0, 100), Get(2, "a", 10, 20), Get(3, null, 5, 30));   // overlapping reads may straddle the write
        NotLinearizable(Put(1, "a", 0, 100), Get(2, "a", 10, 20), Get(3, null, 30, 40));
    }

    [Fact]
    public void Concurrent_writes_may_land_in_either_order()
    {
        Linearizable(Put(1, "a", 0, 50), Put(2, "b", 0, 50), Get(3, "a", 60, 70));
        Linearizable(Put(1, "a", 0, 50), Put(2, "b", 0, 50), Get(3, "b", 60, 70));
    }

    [Fact]
    public void Stale_read_after_a_completed_write_is_rejected()
    {
        var result = NotLinearizable(Put(1, "a", 0, 10), Put(1, "b", 20, 30), Get(2, "a", 40, 50));
        Assert.Contains("\"a\"", result.Explanation);
        Assert.Contains("client 2 get()", result.Explanation);
        Assert.Equal(2, result.LongestPrefix.Count);
    }

    [Fact]
    public void Read_of_a_value_never_written_is_rejected() =>
        NotLinearizable(Put(1, "a", 0, 10), Get(2, "zzz", 5, 15));

    [Fact]
    public void Read_of_absent_after_a_completed_write_is_rejected() =>
        NotLinearizable(Put(1, "a", 0, 10), Get(2, null, 20, 30));

    [Fact]
    public void Two_readers_seeing_concurrent_writes_in_opposite_orders_are_rejected() => NotLinearizable(
        Put(1, "a", 0, 100), Put(2, "b", 0, 100),
        Get(3, "a", 10, 20), Get(3, "b", 30, 40),
        Get(4, "b", 10, 20), Get(4, "a", 30, 40));

    [Fact]
    public void Failed_cas_that_should_have_succeeded_is_rejected()
    {
        NotLinearizable(Put(1, "a", 0, 10), Cas(2, "a", "b", swapped: false, 20, 30, current: "a"));
        NotLinearizable(Put(1, "a", 0, 10), new KvOperation(2, KvInput.Cas(K, "a", "b"), 20, 30, KvOutput.NotSwappedCurrentUnknown));
        NotLinearizable(Cas(2, null, "b", swapped: false, 0, 10, current: null));
    }

    [Fact]
    public void Successful_cas_on_a_wrong_value_is_rejected() =>
        NotLinearizable(Put(1, "a", 0, 10), Cas(2, "x", "b", swapped: true, 20, 30));

    [Fact]
    public void Failed_cas_reporting_a_wrong_current_is_rejected() =>
        NotLinearizable(Put(1, "a", 0, 10), Cas(2, "x", "b", swapped: false, 20, 30, current: "c"));

    [Fact]
    public void Racing_cas_only_one_wins() 
    {
        Linearizable(Put(1, "a", 0, 10), Cas(2, "a", "b", true, 20, 40), Cas(3, "a", "c", false, 20, 40, current: "b"), Get(1, "b", 50, 60));
        NotLinearizable(Put(1, "a", 0, 10), Cas(2, "a", "b", true, 20, 40), Cas(3, "a", "c", true, 20, 40), Get(1, "c", 50, 60));
    }

    [Fact]
    public void Delete_makes_the_key_absent()
    {
        Linearizable(Put(1, "a", 0, 10), Del(2, 20, 30), Get(1, null, 40, 50));
        NotLinearizable(Put(1, "a", 0, 10), Del(2, 20, 30), Get(1, "a", 40, 50));
    }

    [Fact]
    public void Unknown_write_may_or_may_not_take_effect()
    {
        var unknown = KvOperation.Unknown(2, KvInput.Put(K, "b"), 20);
        Linearizable(Put(1, "a", 0, 10), unknown, Get(3, "b", 30, 40));
        Linearizable(Put(1, "a", 0, 10), unknown, Get(3, "a", 30, 40));
        Linearizable(Put(1, "a", 0, 10), unknown, Get(3, "a", 30, 40), Get(3, "b", 1_000, 1_010));   // it may land much later
        NotLinearizable(Put(1, "a", 0, 10), unknown, Get(3, "b", 30, 40), Get(3, "a", 50, 60));       // but only once
        NotLinearizable(Put(1, "a", 0, 10), unknown, Get(3, "b", 5, 8));                              // and not before its call
    }

    [Fact]
    public void Unknown_cas_takes_effect_only_if_its_expectation_held()
    {
        var unknown = KvOperation.Unknown(2, KvInput.Cas(K, "a", "b"), 20);
        Linearizable(Put(1, "a", 0, 10), unknown, Get(3, "b", 30, 40));
        NotLinearizable(Put(1, "x", 0, 10), unknown, Get(3, "b", 30, 40));
    }

    [Fact]
    public void Keys_are_checked_independently_and_the_failing_key_is_named()
    {
        var history = new[]
        {
            new KvOperation(1, KvInput.Put("x", "1"), 0, 10, KvOutput.Ack),
            new KvOperation(1, KvInput.Put("y", "1"), 0, 10, KvOutput.Ack),
            new KvOperation(2, KvInput.Get("x"), 20, 30, KvOutput.Read("1")),
            new KvOperation(2, KvInput.Get("y"), 20, 30, KvOutput.Read(null)),
        };
        var result = LinearizabilityChecker.Check(history);
        Assert.Equal(CheckOutcome.Illegal, result.Outcome);
        Assert.Equal("y", result.Key);
        Assert.True(LinearizabilityChecker.Check(history.Take(3)).Ok);
    }

    [Fact]
    public void Invalid_operations_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check([Put(1, "a", 10, 5)]));
        Assert.Throws<ArgumentException>(() => LinearizabilityChecker.Check([new KvOperation(1, new KvInput(KvOperationKind.Put, K), 0, 1, KvOutput.Ack)]));
    }

    [Fact]
    public void A_pathological_history_reports_unknown_within_the_budget()
    {
        // Many overlapping unknown writes and reads of values nobody wrote in order: the search space explodes.
        var history = new List<KvOperation>();
        for (var i = 0; i < 40; i++) history.Add(KvOperation.Unknown(i, KvInput.Put(K, $"v{i % 20}"), 0));
        for (var i = 0; i < 20; i++) history.Add(Get(100 + i, $"v{(i * 7) % 20}", 1 + i, 1_000));
        history.Add(Get(200, "never", 2_000, 2_001));
        var result = LinearizabilityChecker.Check(history, new CheckBudget { StepsMax = 200_000 });
        Assert.Equal(CheckOutcome.Unknown, result.Outcome);
        Assert.Contains("budget", result.Explanation);
        Assert.InRange(result.Steps, 1, 200_000);
    }

    [Fact]
    public void An_unobserved_unknown_write_still_explains_a_failed_cas_without_a_current()
    {
        // Only the unknown write of "x" explains why cas(a -> b) failed: it must not be set aside.
        Linearizable(Put(1, "a", 0, 10), KvOperation.Unknown(2, KvInput.Put(K, "x"), 20),
            new KvOperation(3, KvInput.Cas(K, "a", "b"), 30, 40, KvOutput.NotSwappedCurrentUnknown));
        NotLinearizable(Put(1, "a", 0, 10), KvOperation.Unknown(2, KvInput.Put(K, "x"), 50),
            new KvOperation(3, KvInput.Cas(K, "a", "b"), 30, 40, KvOutput.NotSwappedCurrentUnknown));
    }

    [Fact]
    public void An_unknown_write_expected_by_a_cas_is_kept()
    {
        Linearizable(KvOperation.Unknown(2, KvInput.Put(K, "x"), 0), KvOperation.Unknown(3, KvInput.Cas(K, "x", "y"), 5), Get(1, "y", 10, 20));
        NotLinearizable(KvOperation.Unknown(2, KvInput.Put(K, "x"), 0), KvOperation.Unknown(3, KvInput.Cas(K, "z", "y"), 5), Get(1, "y", 10, 20));
    }

    [Fact]
    public void Many_unknown_writes_of_unique_values_check_quickly()
    {
        var history = new List<KvOperation>();
        for (var i = 0; i < 200; i++)
        {
            history.Add(KvOperation.Unknown(i % 7, KvInput.Put(K, $"u{i}"), i * 10));
            if (i % 3 == 0) history.Add(Put(100, $"k{i}", i * 10 + 1, i * 10 + 4));
            if (i % 3 == 0) history.Add(Get(101, i % 2 == 0 ? $"u{i}" : $"k{i}", i * 10 + 5, i * 10 + 9));
        }
        var result = LinearizabilityChecker.Check(history, new CheckBudget { StepsMax = 100_000 });
        Assert.True(result.Ok, result.Explanation);
    }

    [Fact]
    public void An_unknown_delete_is_not_bound_by_a_read_of_the_initial_absence() => Linearizable(
        Put(1, "a", 0, 10), Get(2, null, 1, 5), KvOperation.Unknown(3, KvInput.Delete(K), 20), Get(2, "a", 30, 40));

    [Fact]
    public void An_unknown_write_seen_only_before_its_call_is_not_set_aside()
    {
        NotLinearizable(Get(2, "x", 0, 5), KvOperation.Unknown(3, KvInput.Put(K, "x"), 10));
        Linearizable(Get(2, null, 0, 5), KvOperation.Unknown(3, KvInput.Put(K, "x"), 10), Get(2, null, 20, 30));
    }
}
