using System.Globalization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Network;
using DistSysActors.Simulation.Clocks;
using Xunit.Abstractions;

namespace DistSysActors.Simulation.Tests.Clocks;

/// <summary>
/// Berkeley synchronization of five nodes over a seeded LAN-like network: four honest clocks within ±40 ms
/// drifting up to ±50 ppm, and node 5 a faulty clock 1.5 s ahead that also runs 1000 ppm fast. Every node
/// reads its clock every 10 ms of true time and every read is checked against the previous one.
/// </summary>
public class BerkeleySimulationTests(ITestOutputHelper output)
{
    private static readonly NodeId Master = new(1), Faulty = new(5);

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    [InlineData(20261125L)]
    public void FaultyClockIsExcluded_HonestClocksAgree_AndNoClockEverGoesBackwards(long seed)
    {
        var random = new DeterministicRandom(seed);
        var loop = new VirtualTimeLoop(new FaultSpec { DelayMinMs = 1, DelayMaxMs = 4, Reorder = true }, random.Fork().Seed);
        var nodes = Enumerable.Range(1, 5).Select(i => new NodeId(i)).ToArray();
        var honest = nodes.Where(n => n != Faulty).ToArray();
        var specs = nodes.ToDictionary(n => n, n => n == Faulty
            ? new SimulatedClockSpec { OffsetMs = 1_500, DriftPpm = 1_000 }
            : new SimulatedClockSpec { OffsetMs = random.NextInt(-40, 41), DriftPpm = random.NextInt(-50, 51), PeriodicAmplitudeMs = 1, PeriodicPeriodMs = 300_000 });
        Assert.All(specs.Values, s => Assert.True(s.Monotonic, "raw clocks must not go back on their own"));
        var clocks = specs.ToDictionary(kv => kv.Key, kv => new SimulatedClock(kv.Value));
        var members = nodes.ToDictionary(n => n, n => new BerkeleyMember(n));
        var master = new BerkeleyMaster(Master, nodes, new BerkeleySettings { RoundIntervalMs = 5_000, RoundTimeoutMs = 500, RoundTripMsMax = 50, OutlierDeviationMsMax = 50 });
        long Raw(NodeId n) => clocks[n].ReadMs(loop.NowMs);
        var initialHonestMeanMs = honest.Average(n => specs[n].OffsetMs);

        void Deliver(NodeId to, BerkeleyMessage message)
        {
            switch (message)
            {
                case BerkeleyPoll poll: members[to].Handle(poll, Raw(to)); break;
                case BerkeleyTimeReport report: master.Handle(report, members[Master].ReadMs(Raw(Master))); break;
                case BerkeleyAdjust adjust: members[to].Handle(adjust, Raw(to)); break;
            }
            Flush(to);
        }

        void Flush(NodeId node)
        {
            var outgoing = members[node].TakeOutbox().Concat(node == Master ? master.TakeOutbox() : []);
            foreach (var o in outgoing) loop.Send(node, o.To, o.Message, m => Deliver(o.To, m));
        }

        var rounds = new List<BerkeleyRound>();
        loop.Every(0, 100, () =>
        {
            master.Tick(members[Master].ReadMs(Raw(Master)));
            if (master.LastRound is { } r && (rounds.Count == 0 || rounds[^1].Round != r.Round)) rounds.Add(r);
            Flush(Master);
        });

        var lastRead = nodes.ToDictionary(n => n, _ => long.MinValue);
        long reads = 0, spreadAfterMs = 0, maxSpreadAfter = 0;
        const long settleByMs = 300_000, endMs = 600_000;
        loop.Every(0, 10, () =>
        {
            var readings = new Dictionary<NodeId, long>();
            foreach (var n in nodes)
            {
                var read = members[n].ReadMs(Raw(n));
                if (read < lastRead[n]) Assert.Fail($"seed {seed}: node {n} read {read} after {lastRead[n]} at true {loop.NowMs} ms");
                lastRead[n] = read;
                readings[n] = read;
                reads++;
            }
            var spread = honest.Max(n => readings[n]) - honest.Min(n => readings[n]);
            if (loop.NowMs >= settleByMs) maxSpreadAfter = Math.Max(maxSpreadAfter, spread);
            else spreadAfterMs = spread;
        });
        loop.RunUntil(endMs);

        var honestMeanErrorMs = honest.Average(n => members[n].ReadMs(Raw(n))) - loop.NowMs;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: {rounds.Count} rounds, {reads} reads checked; honest spread after {settleByMs / 1000} s max {maxSpreadAfter} ms; honest mean moved {honestMeanErrorMs - initialHonestMeanMs:F1} ms from its start (initial mean offset {initialHonestMeanMs:F1} ms); faulty node correction {members[Faulty].Clock.CorrectionMs:F0} ms"));

        Assert.True(loop.NetworkCounters.Delayed > 0, $"seed {seed}: the network delayed nothing: {loop.NetworkCounters}");
        Assert.True(rounds.Count >= 110, $"seed {seed}: only {rounds.Count} rounds closed");
        Assert.All(rounds, r => Assert.Equal(BerkeleyEstimateKind.Outlier, r.Estimates.Single(e => e.Node == Faulty).Kind));
        // Averaging the faulty clock in would move the group by ~300 ms per round; excluded, the group keeps its own time.
        Assert.True(Math.Abs(honestMeanErrorMs - initialHonestMeanMs) <= 60, $"seed {seed}: honest clocks moved {honestMeanErrorMs - initialHonestMeanMs} ms");
        Assert.True(maxSpreadAfter <= 6, $"seed {seed}: honest clocks {maxSpreadAfter} ms apart after settling");
        // The faulty clock is told to go back every round but only ever slews: it ran slow at the full 500 ppm.
        Assert.InRange(members[Faulty].Clock.CorrectionMs, -0.0005 * clocks[Faulty].ReadMs(endMs) - 1, -0.0005 * (endMs - 10_000));
        Assert.Equal(0, members[Faulty].Clock.StepCount);
    }
}
