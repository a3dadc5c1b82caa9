using DistSysActors.Core.Network;

namespace DistSysActors.Core.Tests.Network;

public class FaultPlannerTests
{
    private static readonly NodeId A = new(1), B = new(2), C = new(3);

    private static readonly FaultSpec Lossy = new() { DropRate = 0.3, DelayMinMs = 0, DelayMaxMs = 100, DuplicateRate = 0.2, Reorder = true };

    private static List<string> Plans(long seed, FaultSpec spec, int messages = 500)
    {
        var planner = new FaultPlanner(spec, seed);
        return Enumerable.Range(0, messages)
            .Select(i => string.Join(",", planner.Plan(A, B, i).Select(d => $"{d.DeliverAtMs}{(d.Duplicate ? "d" : "")}")))
            .ToList();
    }

    [Fact]
    public void The_same_seed_plans_the_same_fates()
    {
        Assert.Equal(Plans(5, Lossy), Plans(5, Lossy));
        Assert.NotEqual(Plans(5, Lossy), Plans(6, Lossy));
    }

    [Fact]
    public void A_seed_in_the_spec_restarts_the_random_source()
    {
        var planner = new FaultPlanner(Lossy with { Seed = 9 }, seed: 1);
        var first = Enumerable.Range(0, 100).Select(i => planner.Plan(A, B, 0).Count).ToList();
        planner.Apply(Lossy with { Seed = 9 });
        var again = Enumerable.Range(0, 100).Select(i => planner.Plan(A, B, 0).Count).ToList();
        Assert.Equal(first, again);
    }

    [Fact]
    public void No_faults_deliver_once_immediately()
    {
        var planner = new FaultPlanner(seed: 3);
        var deliveries = planner.Plan(A, B, 42);
        Assert.Equal([new Delivery(42, false)], deliveries);
        Assert.Equal(new NetworkCounters(1, 1, 0, 0, 0, 0), planner.Counters);
    }

    [Fact]
    public void Counters_add_up()
    {
        var planner = new FaultPlanner(Lossy with { Partitions = FaultSpec.Partition([1, 2], [3]).Partitions }, seed: 11);
        var delivered = 0;
        for (var i = 0; i < 2_000; i++) delivered += planner.Plan(A, B, i).Count;
        for (var i = 0; i < 100; i++) Assert.Empty(planner.Plan(A, C, i));
        var c = planner.Counters;
        Assert.Equal(2_100, c.Sent);
        Assert.Equal(100, c.DroppedByPartition);
        Assert.Equal(delivered, c.Delivered);
        Assert.Equal(2_000 - c.Dropped + c.Duplicated, c.Delivered);
        Assert.InRange(c.Dropped, 600 - 120, 600 + 120);               // 0.3 of 2000, sd ~20.5
        Assert.InRange(c.Duplicated, 280 - 90, 280 + 90);              // 0.2 of ~1400 kept, sd ~15
        Assert.True(c.Delayed > c.Delivered * 9 / 10, $"delayed {c.Delayed} of {c.Delivered}");
    }

    [Fact]
    public void Delays_stay_within_the_range()
    {
        var planner = new FaultPlanner(new FaultSpec { DelayMinMs = 10, DelayMaxMs = 20, Reorder = true }, seed: 4);
        var delays = Enumerable.Range(0, 1_000).Select(i => planner.Plan(A, B, 1_000).Single().DeliverAtMs - 1_000).ToList();
        Assert.All(delays, d => Assert.InRange(d, 10, 20));
        Assert.Equal(10, delays.Min());
        Assert.Equal(20, delays.Max());
    }

    [Fact]
    public void Without_reorder_a_link_is_fifo_with_reorder_it_is_not()
    {
        static bool Inverted(FaultPlanner planner, NodeId from, NodeId to)
        {
            var times = Enumerable.Range(0, 300).Select(i => planner.Plan(from, to, i).Single().DeliverAtMs).ToList();
            return times.Zip(times.Skip(1)).Any(p => p.Second < p.First);
        }

        var delayed = new FaultSpec { DelayMinMs = 0, DelayMaxMs = 50 };
        var fifo = new FaultPlanner(delayed, seed: 8);
        Assert.False(Inverted(fifo, A, B));
        Assert.False(Inverted(fifo, B, A));
        Assert.True(Inverted(new FaultPlanner(delayed with { Reorder = true }, seed: 8), A, B));
    }

    [Fact]
    public void Duplicates_follow_the_original()
    {
        var planner = new FaultPlanner(new FaultSpec { DuplicateRate = 1, DelayMaxMs = 30 }, seed: 2);
        var deliveries = planner.Plan(A, B, 0);
        Assert.Equal(2, deliveries.Count);
        Assert.False(deliveries[0].Duplicate);
        Assert.True(deliveries[1].Duplicate);
        Assert.True(deliveries[1].DeliverAtMs >= deliveries[0].DeliverAtMs);
    }

    [Fact]
    public void An_invalid_spec_is_rejected_and_changes_nothing()
    {
        var planner = new FaultPlanner(new FaultSpec { DropRate = 0.2 }, seed: 1);
        var e = Assert.Throws<ArgumentException>(() => planner.Apply(new FaultSpec { DuplicateRate = 7 }));
        Assert.Contains("duplicateRate", e.Message);
        Assert.Equal(0.2, planner.Spec.DropRate);
    }
}
