using DistSysActors.Core;
using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;
using DistSysActors.Simulation.Raft;

namespace DistSysActors.Simulation.Tests.Raft;

/// <summary>
/// Lease reads (dissertation 6.4.1) are safe only while clocks drift less than the configured margin, and only if the
/// lease is measured on the leader's clock (a pause stops its ticks, not time). A deposed leader is cut off from its
/// followers (not from clients); a new leader commits a newer value; then a client asks the old leader for a lease read.
/// </summary>
public sealed class RaftLeaseDriftTests
{
    private static NodeId N(int id) => new(id);

    /// <summary>Returns the value the deposed leader served, or null if it refused or never answered.</summary>
    private static (bool Answered, string? Value) ReadFromDeposedLeader(long seed, double leaderRate, double followerRate)
    {
        var c = new RaftSimCluster(seed, 3);
        c.ClockRates[N(1)] = leaderRate;
        c.ClockRates[N(2)] = followerRate;
        c.ClockRates[N(3)] = followerRate;
        c.Sim.RunFor(30);
        if (!c.ElectNow(N(1))) throw new InvalidOperationException($"seed={seed}: node 1 did not win");
        c.Commit(c.NewPut("k", "old"), 3);
        var newer = c.NewPut("k", "new"); // its client registers now, while node 1 still leads the whole cluster
        c.Sim.RunFor(100); // heartbeats renew the lease
        c.Sim.Isolate(N(1));
        var successor = c.RunUntilLeader(3_000, [N(2), N(3)]) ?? throw new InvalidOperationException($"seed={seed}: no new leader; {c.Describe()}");
        c.Sim.Inject(successor, new RaftClientCommand(c.NextRequestId(), newer));
        if (!c.Sim.RunUntil(() => c.AppliedCount(newer) >= 2, 1_000))
            throw new InvalidOperationException($"seed={seed}: the new leader did not commit; {c.Describe()}");
        var requestId = c.NextRequestId();
        c.Sim.Inject(N(1), new RaftClientRead(requestId, "k", ReadMode.Lease));
        c.Sim.RunFor(50);
        FaultChecks.Require(seed, c.Sim.FaultCounters, SimFaults.Partition);
        var reply = c.Replies.OfType<RaftClientOk>().FirstOrDefault(r => r.RequestId == requestId);
        return (reply is not null, reply?.Value);
    }

    [Fact]
    public void Dissertation6_4_1_LeaseReadIsSafeWhenDriftIsWithinMargin() => SeedRunner.Run(30, seed =>
    {
        // 10% drift over a 10-tick timeout is one tick: inside LeaseClockDriftTicks = 2 (one of which covers tick phase).
        var (answered, value) = ReadFromDeposedLeader(seed, leaderRate: 0.95, followerRate: 1.05);
        Assert.False(answered && value == "old", $"seed={seed}: the deposed leader served a stale lease read");
    });

    /// <summary>
    /// A leader whose process stops (GC pause, SIGSTOP) past its lease, cut off from its followers, while they elect
    /// another leader who commits a newer value; a lease read reaches it first thing when it resumes, before any tick.
    /// Its lease must be measured on its clock, not in the ticks it processed: it must not serve the old value.
    /// </summary>
    [Fact]
    public void Dissertation6_4_1_LeaderPausedPastItsLeaseServesNoLeaseRead() => SeedRunner.Run(30, seed =>
    {
        var c = new RaftSimCluster(seed, 3);
        c.Sim.RunFor(30);
        if (!c.ElectNow(N(1))) throw new InvalidOperationException($"seed={seed}: node 1 did not win");
        c.Commit(c.NewPut("k", "old"), 3);
        c.Sim.RunFor(100); // heartbeats renew the lease
        var newer = c.NewPut("k", "new"); // its client registered now, while node 1 leads
        c.Sim.RunFor(100);
        Assert.True(c.Raft(1)!.HasLease, $"seed={seed}: node 1 holds no lease before its pause");
        c.Sim.Isolate(N(1));
        c.Sim.Pause(N(1), 1_000);
        var successor = c.RunUntilLeader(800, [N(2), N(3)]) ?? throw new InvalidOperationException($"seed={seed}: no new leader; {c.Describe()}");
        c.Sim.Inject(successor, new RaftClientCommand(c.NextRequestId(), newer));
        if (!c.Sim.RunUntil(() => c.AppliedCount(newer) >= 2, 200))
            throw new InvalidOperationException($"seed={seed}: the new leader did not commit; {c.Describe()}");
        Assert.True(c.Sim.IsPaused(N(1)), $"seed={seed}: node 1 resumed before the new value was committed");
        var requestId = c.NextRequestId();
        RaftRole? roleAtRead = null;
        c.Sim.TraceListener = e =>
        {
            if (e is { Kind: SimTraceKind.Delivered, Detail: RaftClientRead read } && read.RequestId == requestId) roleAtRead = c.Raft(N(1))?.Role;
        };
        c.Sim.Inject(N(1), new RaftClientRead(requestId, "k", ReadMode.Lease)); // handled as the pause ends
        c.Sim.RunUntil(() => !c.Sim.IsPaused(N(1)), 1_000);
        c.Sim.RunFor(300);
        Assert.Equal(RaftRole.Leader, roleAtRead); // the read met a node that still believed it led
        FaultChecks.Require(seed, c.Sim.FaultCounters, SimFaults.Partition | SimFaults.Pause);
        var served = c.Replies.OfType<RaftClientOk>().FirstOrDefault(r => r.RequestId == requestId);
        Assert.True(served is null, $"seed={seed}: the paused leader served a lease read of {served?.Value} after its lease ran out");
    });

    [Fact]
    public void Dissertation6_4_1_LeaseReadIsStaleWhenDriftExceedsMargin()
    {
        // A leader whose clock runs at a quarter of its followers' rate still believes in its lease after they elected another.
        var stale = Enumerable.Range(1, 10).Count(seed => ReadFromDeposedLeader(seed, leaderRate: 0.25, followerRate: 1.0) is (true, "old"));
        Assert.True(stale > 0, "excessive drift should let a deposed leader serve a stale lease read");
    }
}
