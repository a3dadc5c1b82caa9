using System.Globalization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Network;
using DistSysActors.Core.Protocol;
using DistSysActors.Simulation.Clocks;
using DistSysActors.Simulation.Protocol;
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
        // Every node ticks every 100 ms (only the master's tick does anything); messages cross the seeded fault planner.
        var sim = new Simulator<BerkeleyMessage>(new SimulatorOptions { Seed = random.Fork().Seed, TickIntervalMs = 100, LatencyMinMs = 0, LatencyMaxMs = 0 });
        sim.SetFaults(new FaultSpec { DelayMinMs = 1, DelayMaxMs = 4, Reorder = true });
        var nodes = Enumerable.Range(1, 5).Select(i => new NodeId(i)).ToArray();
        var honest = nodes.Where(n => n != Faulty).ToArray();
        var specs = nodes.ToDictionary(n => n, n => n == Faulty
            ? new SimulatedClockSpec { OffsetMs = 1_500, DriftPpm = 1_000 }
            : new SimulatedClockSpec { OffsetMs = random.NextInt(-40, 41), DriftPpm = random.NextInt(-50, 51), PeriodicAmplitudeMs = 1, PeriodicPeriodMs = 300_000 });
        Assert.All(specs.Values, s => Assert.True(s.Monotonic, "raw clocks must not go back on their own"));
        var clocks = specs.ToDictionary(kv => kv.Key, kv => new SimulatedClock(kv.Value));
        var members = nodes.ToDictionary(n => n, n => new BerkeleyMember(n));
        var master = new BerkeleyMaster(Master, nodes, new BerkeleySettings { RoundIntervalMs = 5_000, RoundTimeoutMs = 500, RoundTripMsMax = 50, OutlierDeviationMsMax = 50 });
        long Raw(NodeId n) => clocks[n].ReadMs(sim.NowMs);
        var initialHonestMeanMs = honest.Average(n => specs[n].OffsetMs);

        var rounds = new List<BerkeleyRound>();
        var options = new ProtocolSimOptions<BerkeleyNode>
        {
            ClockMs = (node, trueMs) => clocks[node].ReadMs(trueMs),
            OnAnswer = (_, answer) => { if (answer is BerkeleyRound r) rounds.Add(r); },
        };
        sim.AddNodes(nodes, (id, _) => new ProtocolSimNode<BerkeleyNode, BerkeleyMessage, ProtocolReady<BerkeleyMessage>>(
            new BerkeleyNode(members[id], id == Master ? master : null), options));

        var lastRead = nodes.ToDictionary(n => n, _ => long.MinValue);
        long reads = 0, spreadAfterMs = 0, maxSpreadAfter = 0;
        const long settleByMs = 300_000, endMs = 600_000;
        NtpConvergenceSimulationTests.Every(sim, 0, 10, () =>
        {
            var readings = new Dictionary<NodeId, long>();
            foreach (var n in nodes)
            {
                var read = members[n].ReadMs(Raw(n));
                if (read < lastRead[n]) Assert.Fail($"seed {seed}: node {n} read {read} after {lastRead[n]} at true {sim.NowMs} ms");
                lastRead[n] = read;
                readings[n] = read;
                reads++;
            }
            var spread = honest.Max(n => readings[n]) - honest.Min(n => readings[n]);
            if (sim.NowMs >= settleByMs) maxSpreadAfter = Math.Max(maxSpreadAfter, spread);
            else spreadAfterMs = spread;
        });
        sim.RunFor(endMs);

        var honestMeanErrorMs = honest.Average(n => members[n].ReadMs(Raw(n))) - sim.NowMs;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: {rounds.Count} rounds, {reads} reads checked; honest spread after {settleByMs / 1000} s max {maxSpreadAfter} ms; honest mean moved {honestMeanErrorMs - initialHonestMeanMs:F1} ms from its start (initial mean offset {initialHonestMeanMs:F1} ms); faulty node correction {members[Faulty].Clock.CorrectionMs:F0} ms"));

        Assert.True(sim.FaultCounters.Delayed > 0, $"seed {seed}: the network delayed nothing: {sim.FaultCounters}");
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
