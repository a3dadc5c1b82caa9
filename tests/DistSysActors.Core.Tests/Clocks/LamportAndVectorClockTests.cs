using DistSysActors.Core;
using DistSysActors.Core.Clocks;

namespace DistSysActors.Core.Tests.Clocks;

public class LamportAndVectorClockTests
{
    private static readonly NodeId A = new(1), B = new(2), C = new(3);

    [Fact]
    public void Lamport_IR1_EveryLocalEventTicks()
    {
        var clock = LamportClock.Start(A);
        var first = clock.Tick();
        var second = first.Tick();
        Assert.True(clock.Timestamp < first.Timestamp && first.Timestamp < second.Timestamp);
    }

    [Fact]
    public void Lamport_IR2_ReceiveJumpsPastTheSender()
    {
        var far = LamportClock.Start(A);
        for (var i = 0; i < 7; i++) far = far.Tick();
        var receiver = LamportClock.Start(B).Tick().Receive(far.Timestamp);
        Assert.True(receiver.Timestamp > far.Timestamp);
        Assert.Equal(far.Counter + 1, receiver.Counter);
    }

    [Fact]
    public void Lamport_TotalOrder_BreaksCounterTiesByNodeId()
    {
        var onA = LamportClock.Start(A).Tick().Timestamp;
        var onB = LamportClock.Start(B).Tick().Timestamp;
        Assert.Equal(onA.Counter, onB.Counter);
        Assert.True(onA < onB);
        Assert.Equal(new[] { onA, onB }, new[] { onB, onA }.Order());
    }

    [Fact]
    public void Lamport_CausalChainAcrossThreeNodes_IsOrdered()
    {
        // A: a1 send -> B: b1 receive, b2 send -> C: c1 receive; C runs ahead on its own first.
        var c = LamportClock.Start(C);
        for (var i = 0; i < 5; i++) c = c.Tick();
        var a = LamportClock.Start(A).Tick();
        var b = LamportClock.Start(B).Receive(a.Timestamp);
        var bSend = b.Tick();
        c = c.Receive(bSend.Timestamp);
        var chain = new[] { a.Timestamp, b.Timestamp, bSend.Timestamp, c.Timestamp };
        for (var i = 1; i < chain.Length; i++) Assert.True(chain[i - 1] < chain[i], $"{chain[i - 1]} !< {chain[i]}");
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    [InlineData(42L)]
    [InlineData(20261125L)]
    public void Lamport_ClockCondition_HoldsForEveryCausallyRelatedPairAcrossThreeNodes(long seed)
    {
        var run = new CausalityRun(seed, nodeCount: 3, eventCount: 120);
        var related = 0;
        foreach (var a in run.Events)
            foreach (var b in run.Events)
            {
                if (!run.HappensBefore[a.Index][b.Index]) continue;
                related++;
                if (a.Lamport >= b.Lamport) Assert.Fail($"seed {seed}: event {a.Index} -> {b.Index} but L {a.Lamport} !< {b.Lamport}");
            }
        Assert.True(related > 100, $"seed {seed}: only {related} causally related pairs; the run does not exercise messages");
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    [InlineData(42L)]
    [InlineData(20261125L)]
    public void Vector_CharacterizesHappensBefore_AndDetectsConcurrencyLamportCannot(long seed)
    {
        var run = new CausalityRun(seed, nodeCount: 3, eventCount: 120);
        var concurrentButLamportOrdered = 0;
        foreach (var a in run.Events)
            foreach (var b in run.Events)
            {
                if (a.Index == b.Index) continue;
                var expected = run.HappensBefore[a.Index][b.Index] ? VectorOrder.Before
                    : run.HappensBefore[b.Index][a.Index] ? VectorOrder.After
                    : VectorOrder.Concurrent;
                if (expected != a.Vector.Compare(b.Vector)) Assert.Fail($"seed {seed}: events {a.Index},{b.Index}: {a.Vector} vs {b.Vector} should be {expected}");
                if (expected == VectorOrder.Concurrent && a.Lamport < b.Lamport) concurrentButLamportOrdered++;
            }
        // Lamport orders every pair, so it cannot tell these concurrent pairs from causal ones.
        Assert.True(concurrentButLamportOrdered > 0, $"seed {seed}: no concurrent pair found");
    }

    [Fact]
    public void Vector_TwoIndependentEvents_AreConcurrent_ThoughLamportOrdersThem()
    {
        var onA = VectorClock.Empty.Increment(A);
        var onB = VectorClock.Empty.Increment(B);
        Assert.Equal(VectorOrder.Concurrent, onA.Compare(onB));
        Assert.True(LamportClock.Start(A).Tick().Timestamp < LamportClock.Start(B).Tick().Timestamp);
    }

    [Fact]
    public void Vector_Merge_IsPointwiseMaximum_AndCommutative()
    {
        var x = VectorClock.From([new(A, 3), new(B, 1)]);
        var y = VectorClock.From([new(B, 4), new(C, 2)]);
        var merged = x.Merge(y);
        Assert.Equal(merged, y.Merge(x));
        foreach (var node in new[] { A, B, C }) Assert.Equal(Math.Max(x[node], y[node]), merged[node]);
        Assert.Equal(VectorOrder.Before, x.Compare(merged));
        Assert.Equal(VectorOrder.After, merged.Compare(y));
    }

    [Fact]
    public void Vector_EntriesSortedByNode_ZeroesOmitted_EqualityByValue()
    {
        var built = VectorClock.Empty.Increment(C).Increment(A).Increment(B).Increment(A);
        Assert.Equal(new[] { A, B, C }, built.Entries.Select(e => e.Node));
        Assert.Equal(built, VectorClock.From([new(B, 1), new(A, 2), new(C, 1), new(new NodeId(9), 0)]));
        Assert.Equal(VectorOrder.Equal, built.Compare(VectorClock.From(built.Entries)));
        Assert.Equal("{1:2, 2:1, 3:1}", built.ToString());
    }

    [Fact]
    public void Vector_RejectsDuplicateNodesAndNegativeCounters()
    {
        Assert.Throws<ArgumentException>(() => VectorClock.From([new(A, 1), new(A, 2)]));
        Assert.Throws<ArgumentException>(() => VectorClock.From([new(A, -1)]));
    }
}
