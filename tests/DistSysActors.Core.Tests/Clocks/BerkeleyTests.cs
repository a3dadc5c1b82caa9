using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Tests.Clocks;

/// <summary>Gusella and Zatti 1989: polling, RTT/2 estimates, fault-tolerant average, deltas, never backwards.</summary>
public class BerkeleyTests
{
    private static readonly NodeId Master = new(1);

    /// <summary>A master and members whose raw clocks read true time + an offset, on a network with a fixed one-way delay.</summary>
    private sealed class Cluster
    {
        private readonly long _oneWayMs;
        private readonly PriorityQueue<(NodeId To, BerkeleyMessage Message), (long AtMs, long Seq)> _inFlight = new();
        private long _seq;

        public Cluster(IReadOnlyDictionary<NodeId, long> offsetsMs, long oneWayMs, BerkeleySettings settings, ISet<NodeId>? silent = null)
        {
            OffsetsMs = offsetsMs;
            _oneWayMs = oneWayMs;
            Silent = silent ?? new HashSet<NodeId>();
            MasterCore = new BerkeleyMaster(Master, offsetsMs.Keys, settings);
            Members = offsetsMs.Keys.Order().ToDictionary(n => n, n => new BerkeleyMember(n));
        }

        public IReadOnlyDictionary<NodeId, long> OffsetsMs { get; }
        public ISet<NodeId> Silent { get; }
        public BerkeleyMaster MasterCore { get; }
        public Dictionary<NodeId, BerkeleyMember> Members { get; }
        public long TrueMs { get; private set; }
        public List<(NodeId To, BerkeleyAdjust Adjust)> Adjusts { get; } = [];

        public long Raw(NodeId node) => TrueMs + OffsetsMs[node];

        public void RunUntil(long endMs)
        {
            for (; TrueMs <= endMs; TrueMs++)
            {
                while (_inFlight.TryPeek(out _, out var at) && at.AtMs <= TrueMs)
                {
                    var (to, message) = _inFlight.Dequeue();
                    var member = Members[to];
                    switch (message)
                    {
                        case BerkeleyPoll poll when !Silent.Contains(to): member.Handle(poll, Raw(to)); break;
                        case BerkeleyTimeReport report: MasterCore.Handle(report, Members[Master].ReadMs(Raw(Master))); break;
                        case BerkeleyAdjust adjust: Adjusts.Add((to, adjust)); member.Handle(adjust, Raw(to)); break;
                    }
                    Send(to, member.TakeMessages());
                    Send(Master, MasterCore.TakeMessages());
                }
                MasterCore.Tick(Members[Master].ReadMs(Raw(Master)));
                Send(Master, MasterCore.TakeMessages());
            }
        }

        private void Send(NodeId from, IReadOnlyList<Outgoing<BerkeleyMessage>> outgoing)
        {
            foreach (var o in outgoing) _inFlight.Enqueue((o.To, o.Message), (TrueMs + (o.To == from ? 0 : _oneWayMs), _seq++));
        }
    }

    [Fact]
    public void OutlierClock_IsExcludedFromTheAverage_ButStillCorrected()
    {
        var offsets = new Dictionary<NodeId, long>
        {
            [Master] = 0, [new NodeId(2)] = 12, [new NodeId(3)] = -8, [new NodeId(4)] = 20, [new NodeId(5)] = 900,
        };
        var settings = new BerkeleySettings { RoundIntervalMs = 60_000, OutlierDeviationMsMax = 50 };
        var cluster = new Cluster(offsets, oneWayMs: 10, settings);
        cluster.RunUntil(1_000);

        var round = cluster.MasterCore.LastRound!;
        var honest = offsets.Where(o => o.Value < 100).Select(o => (double)o.Value).ToList();
        Assert.Equal(honest.Average(), round.AverageOffsetMs, 9);
        var outlier = Assert.Single(round.Estimates, e => e.Kind == BerkeleyEstimateKind.Outlier);
        Assert.Equal(new NodeId(5), outlier.Node);
        Assert.Equal(900, outlier.OffsetMs!.Value, 9); // symmetric delays: RTT/2 recovers the offset exactly
        foreach (var e in round.Estimates)
            Assert.Equal(round.AverageOffsetMs - offsets[e.Node], e.DeltaMs!.Value, 9);
        Assert.Equal(offsets.Keys.Order(), cluster.Adjusts.Select(a => a.To).Order());

        // After the slews finish, the honest clocks agree on the average; the outlier has only slewed towards it.
        cluster.RunUntil(60_000 - 1);
        var target = cluster.TrueMs + round.AverageOffsetMs;
        foreach (var (node, member) in cluster.Members.Where(m => m.Key != new NodeId(5)))
            Assert.InRange(member.ReadPreciseMsAt(cluster.Raw(node)), target - 0.01, target + 0.01);
        var outlierMember = cluster.Members[new NodeId(5)];
        Assert.Equal(ClockAdjustmentKind.Slew, outlierMember.Clock.LastAdjustment!.Value.Kind);
        outlierMember.ReadMs(cluster.Raw(new NodeId(5)));
        Assert.True(outlierMember.Clock.CorrectionMs < -25, $"outlier correction {outlierMember.Clock.CorrectionMs}");
    }

    [Fact]
    public void SilentAndSlowMembers_AreNeitherAveragedNorCorrected()
    {
        var offsets = new Dictionary<NodeId, long> { [Master] = 0, [new NodeId(2)] = 30, [new NodeId(3)] = -10, [new NodeId(4)] = 5 };
        var settings = new BerkeleySettings { RoundIntervalMs = 60_000, RoundTimeoutMs = 1_000, RoundTripMsMax = 15 };
        var cluster = new Cluster(offsets, oneWayMs: 10, settings, silent: new HashSet<NodeId> { new(4) });
        cluster.RunUntil(2_000);
        var round = cluster.MasterCore.LastRound!;
        Assert.Equal(BerkeleyEstimateKind.NoReply, round.Estimates.Single(e => e.Node == new NodeId(4)).Kind);
        // Every reply took 20 ms > 15 ms, so only the master's own clock is averaged.
        Assert.All(round.Estimates.Where(e => e.Node == new NodeId(2) || e.Node == new NodeId(3)), e => Assert.Equal(BerkeleyEstimateKind.TooSlow, e.Kind));
        Assert.Equal(0, round.AverageOffsetMs);
        Assert.Equal(new[] { Master }, cluster.Adjusts.Select(a => a.To));
    }

    [Fact]
    public void Member_NeverStepsBackwards_ButStepsForwards()
    {
        var member = new BerkeleyMember(new NodeId(2));
        member.Handle(new BerkeleyPoll(Master, 1), 1_000);
        var back = member.Handle(new BerkeleyAdjust(Master, 1, -400), 1_000);
        Assert.Equal(ClockAdjustmentKind.Slew, back!.Value.Kind);
        Assert.Equal(1_000, member.ReadMs(1_000));
        member.Handle(new BerkeleyPoll(Master, 2), 1_000);
        var forward = member.Handle(new BerkeleyAdjust(Master, 2, +400), 1_000);
        Assert.Equal(ClockAdjustmentKind.Step, forward!.Value.Kind);
    }

    [Fact]
    public void Member_AppliesOnlyTheDeltaForItsLatestReport_Once()
    {
        var member = new BerkeleyMember(new NodeId(2));
        Assert.Null(member.Handle(new BerkeleyAdjust(Master, 1, 10), 0)); // never polled
        member.Handle(new BerkeleyPoll(Master, 1), 0);
        member.Handle(new BerkeleyPoll(Master, 2), 5_000);
        Assert.Null(member.Handle(new BerkeleyAdjust(Master, 1, 10), 5_001)); // relative to a superseded report
        Assert.Null(member.Handle(new BerkeleyAdjust(new NodeId(7), 2, 10), 5_001)); // not the master that polled
        Assert.NotNull(member.Handle(new BerkeleyAdjust(Master, 2, 10), 5_001));
        Assert.Null(member.Handle(new BerkeleyAdjust(Master, 2, 10), 5_002)); // duplicate
        // A restarted master numbers its rounds from 1 again.
        member.Handle(new BerkeleyPoll(Master, 1), 9_000);
        Assert.NotNull(member.Handle(new BerkeleyAdjust(Master, 1, 10), 9_001));
        Assert.Equal(4_000 * 500 / 1_000_000.0 + 10, member.Clock.TargetCorrectionMs, 9); // 4 s of the first slew, then 10 more
    }

    [Fact]
    public void Member_AnswersAPollWithItsDisciplinedClock()
    {
        var member = new BerkeleyMember(new NodeId(3));
        member.Handle(new BerkeleyPoll(Master, 1), 0);
        member.TakeMessages();
        member.Handle(new BerkeleyAdjust(Master, 1, 500), 0);
        member.Handle(new BerkeleyPoll(Master, 2), 2_000);
        var report = Assert.Single(member.TakeMessages());
        Assert.Equal(new Outgoing<BerkeleyMessage>(Master, new BerkeleyTimeReport(new NodeId(3), 2, 2_500)), report);
    }
}

internal static class BerkeleyMemberTestExtensions
{
    public static double ReadPreciseMsAt(this BerkeleyMember member, long rawMs) => member.Clock.ReadPreciseMs(rawMs);
}
