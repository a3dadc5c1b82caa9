using DistSysActors.Core;
using DistSysActors.Core.Clocks;

namespace DistSysActors.Core.Tests.Clocks;

/// <summary>Rules of Kulkarni et al. 2014, "Logical Physical Clocks", figure 5, and theorems 1-2 of section 3.</summary>
public class HybridLogicalClockTests
{
    [Fact]
    public void SendOrLocal_PhysicalTimeAhead_TakesPhysicalTimeWithZeroCounter()
    {
        var hlc = new HybridLogicalClock();
        hlc.Now(1_000);
        hlc.Now(1_000);
        Assert.Equal(new HlcTimestamp(1_005, 0), hlc.Now(1_005));
    }

    [Fact]
    public void SendOrLocal_PhysicalTimeStandsStillOrGoesBack_CounterOrdersEvents()
    {
        var hlc = new HybridLogicalClock();
        var stamps = new[] { hlc.Now(1_000), hlc.Now(1_000), hlc.Now(990), hlc.Now(999) };
        for (var i = 1; i < stamps.Length; i++) Assert.True(stamps[i - 1] < stamps[i], $"{stamps[i - 1]} !< {stamps[i]}");
        Assert.All(stamps, s => Assert.Equal(1_000, s.WallMs));
    }

    [Fact]
    public void Receive_RemoteAhead_AdoptsRemoteWallAndCountsOnFromIt()
    {
        var hlc = new HybridLogicalClock();
        hlc.Now(1_000);
        var remote = new HlcTimestamp(1_050, 4);
        var result = Assert.IsType<HlcReceiveResult.Accepted>(hlc.Receive(remote, 1_001));
        Assert.Equal(remote with { Logical = remote.Logical + 1 }, result.Timestamp);
    }

    [Fact]
    public void Receive_SameWallOnBothSides_CountsOnFromTheLargerCounter()
    {
        var hlc = new HybridLogicalClock();
        hlc.Receive(new HlcTimestamp(2_000, 2), 1_900);
        var result = Assert.IsType<HlcReceiveResult.Accepted>(hlc.Receive(new HlcTimestamp(2_000, 9), 1_900));
        Assert.Equal(new HlcTimestamp(2_000, 10), result.Timestamp);
        var smaller = Assert.IsType<HlcReceiveResult.Accepted>(hlc.Receive(new HlcTimestamp(2_000, 1), 1_900));
        Assert.Equal(new HlcTimestamp(2_000, 11), smaller.Timestamp);
    }

    [Fact]
    public void Receive_LocalWallAhead_CountsOnFromLocal()
    {
        var hlc = new HybridLogicalClock();
        var first = Assert.IsType<HlcReceiveResult.Accepted>(hlc.Receive(new HlcTimestamp(2_000, 3), 1_900));
        Assert.Equal(new HlcTimestamp(2_000, 4), first.Timestamp);
        var result = Assert.IsType<HlcReceiveResult.Accepted>(hlc.Receive(new HlcTimestamp(1_500, 8), 1_950));
        Assert.Equal(new HlcTimestamp(2_000, 5), result.Timestamp);
    }

    [Fact]
    public void LogicalCounter_ResetsWhenPhysicalTimePassesL()
    {
        var hlc = new HybridLogicalClock();
        hlc.Receive(new HlcTimestamp(5_000, 6), 4_900);
        var held = hlc.Now(4_950);
        Assert.Equal(5_000, held.WallMs);
        Assert.True(held.Logical > 0);
        var passed = hlc.Now(5_001);
        Assert.Equal(new HlcTimestamp(5_001, 0), passed);
        var afterReceive = Assert.IsType<HlcReceiveResult.Accepted>(hlc.Receive(new HlcTimestamp(5_001, 40), 5_010));
        Assert.Equal(new HlcTimestamp(5_010, 0), afterReceive.Timestamp);
    }

    [Fact]
    public void Receive_BeyondMaxOffset_IsRejectedWithReason_AndLeavesTheClockUnchanged()
    {
        var hlc = new HybridLogicalClock(maxOffsetMs: 250);
        var before = hlc.Now(10_000);
        var remote = new HlcTimestamp(10_000 + 251, 0);
        var rejected = Assert.IsType<HlcReceiveResult.Rejected>(hlc.Receive(remote, 10_000));
        Assert.Equal(251, rejected.AheadMs);
        Assert.Contains("251 ms ahead", rejected.Reason);
        Assert.Contains("250 ms", rejected.Reason);
        Assert.Equal(before, hlc.Last);
        Assert.Equal(before with { Logical = before.Logical + 1 }, hlc.Now(10_000));

        var atLimit = Assert.IsType<HlcReceiveResult.Accepted>(hlc.Receive(new HlcTimestamp(10_000 + 250, 0), 10_000));
        Assert.Equal(10_250, atLimit.Timestamp.WallMs);
    }

    [Fact]
    public void MaxOffset_MustBePositive() => Assert.Throws<ArgumentOutOfRangeException>(() => new HybridLogicalClock(0));

    /// <summary>
    /// Three nodes exchange messages with random delays; node 2's physical clock runs 100 ms behind, the
    /// others within 2 ms of true time. Checks at every event: timestamps on a node strictly increase,
    /// a receive is stamped after its send, and l − pt never exceeds the skew bound ε (theorem 2).
    /// </summary>
    [Theory]
    [InlineData(1L)]
    [InlineData(7L)]
    [InlineData(99L)]
    [InlineData(20261125L)]
    public void ThreeNodes_OneHundredMsBehind_MonotonicCausalAndWithinSkewBound(long seed)
    {
        var random = new DeterministicRandom(seed);
        var nodes = new[] { new NodeId(1), new NodeId(2), new NodeId(3) };
        var skewMs = new Dictionary<NodeId, long> { [nodes[0]] = 0, [nodes[1]] = -100, [nodes[2]] = 2 };
        const long epsilonMs = 102; // the largest difference between any two physical clocks
        var hlcs = nodes.ToDictionary(n => n, _ => new HybridLogicalClock(maxOffsetMs: 500));
        var last = nodes.ToDictionary(n => n, _ => HlcTimestamp.Zero);
        var inFlight = new List<(long DeliverAtMs, NodeId To, HlcTimestamp Stamp)>();
        long maxLeadMs = 0;

        void Check(NodeId node, HlcTimestamp stamp, long pt, long trueMs)
        {
            if (stamp <= last[node]) Assert.Fail($"seed {seed}: node {node} at {trueMs}: {stamp} not after {last[node]}");
            last[node] = stamp;
            var leadMs = stamp.WallMs - pt;
            if (leadMs > epsilonMs) Assert.Fail($"seed {seed}: node {node} at {trueMs}: l - pt = {leadMs} exceeds {epsilonMs}");
            maxLeadMs = Math.Max(maxLeadMs, leadMs);
        }

        for (long trueMs = 1_000; trueMs < 21_000; trueMs += random.NextInt(0, 4))
        {
            foreach (var m in inFlight.Where(m => m.DeliverAtMs <= trueMs).ToList())
            {
                inFlight.Remove(m);
                var pt = trueMs + skewMs[m.To];
                var accepted = Assert.IsType<HlcReceiveResult.Accepted>(hlcs[m.To].Receive(m.Stamp, pt));
                if (accepted.Timestamp <= m.Stamp) Assert.Fail($"seed {seed}: receive {accepted.Timestamp} not after send {m.Stamp}");
                Check(m.To, accepted.Timestamp, pt, trueMs);
            }
            var node = nodes[random.NextInt(0, nodes.Length)];
            var now = trueMs + skewMs[node];
            var stamp = hlcs[node].Now(now);
            Check(node, stamp, now, trueMs);
            if (random.Chance(0.5))
            {
                var to = nodes.Where(n => n != node).ElementAt(random.NextInt(0, nodes.Length - 1));
                inFlight.Add((trueMs + random.NextInt(0, 20), to, stamp));
            }
        }
        // Node 2 must actually have been pulled ahead of its own slow clock, or the bound was never tested.
        Assert.True(maxLeadMs >= 80, $"seed {seed}: largest l - pt was only {maxLeadMs} ms");
    }
}
