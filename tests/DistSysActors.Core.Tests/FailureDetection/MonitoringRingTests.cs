using DistSysActors.Core.FailureDetection;

namespace DistSysActors.Core.Tests.FailureDetection;

public sealed class MonitoringRingTests
{
    private static IEnumerable<NodeId> Nodes(params int[] ids) => ids.Select(i => new NodeId(i));

    [Fact]
    public void Each_node_is_monitored_by_exactly_k_others_capped_at_n_minus_1()
    {
        for (var n = 1; n <= 20; n++)
        for (var k = 1; k <= 12; k++)
        {
            var ring = new MonitoringRing(Nodes(Enumerable.Range(1, n).Select(i => i * 3).ToArray()), k);
            var expected = Math.Min(k, n - 1);
            foreach (var node in ring.Members)
            {
                Assert.Equal(expected, ring.MonitorsOf(node).Count);
                Assert.Equal(expected, ring.Receivers(node).Count);
                Assert.DoesNotContain(node, ring.Receivers(node));
                Assert.Equal(ring.Receivers(node).Count, ring.Receivers(node).Distinct().Count());
            }
            // O(N·k) heartbeats per interval, not O(N²).
            Assert.Equal(n * expected, ring.Members.Sum(m => ring.Receivers(m).Count));
        }
    }

    [Fact]
    public void Receivers_are_the_next_k_nodes_in_node_id_order_wrapping_around()
    {
        var ring = new MonitoringRing(Nodes(5, 1, 4, 2, 3), 2);
        Assert.Equal(Nodes(2, 3), ring.Receivers(new NodeId(1)));
        Assert.Equal(Nodes(5, 1), ring.Receivers(new NodeId(4)));
        Assert.Equal(Nodes(1, 2), ring.Receivers(new NodeId(5)));
        Assert.Equal(Nodes(4, 5), ring.MonitorsOf(new NodeId(1)));
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    public void The_ring_does_not_depend_on_the_order_members_are_given_in(long seed)
    {
        var random = new DeterministicRandom(seed);
        var ids = Enumerable.Range(1, 30).ToArray();
        var shuffled = ids.OrderBy(_ => random.NextUInt64()).ToArray();
        var a = new MonitoringRing(Nodes(ids), 9);
        var b = new MonitoringRing(Nodes(shuffled), 9);
        foreach (var node in a.Members) Assert.Equal(a.Receivers(node), b.Receivers(node));
    }

    [Fact]
    public void Unreachable_nodes_within_the_first_k_stay_receivers_and_reachable_ones_are_added()
    {
        var ring = new MonitoringRing(Nodes(1, 2, 3, 4, 5, 6), 2, Nodes(3));
        Assert.Equal(Nodes(2, 3, 4), ring.Receivers(new NodeId(1)));
        var two = new MonitoringRing(Nodes(1, 2, 3, 4, 5, 6), 2, Nodes(2, 3));
        Assert.Equal(Nodes(2, 3, 4, 5), two.Receivers(new NodeId(1)));
        // An unreachable node beyond the first k places is skipped.
        var far = new MonitoringRing(Nodes(1, 2, 3, 4, 5, 6), 2, Nodes(2, 4));
        Assert.Equal(Nodes(2, 3, 5), far.Receivers(new NodeId(1)));
    }

    [Fact]
    public void Rejects_a_sender_outside_the_ring_and_a_count_out_of_range()
    {
        var ring = new MonitoringRing(Nodes(1, 2, 3), 1);
        Assert.Throws<ArgumentException>(() => ring.Receivers(new NodeId(9)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MonitoringRing(Nodes(1, 2), 0));
    }
}
