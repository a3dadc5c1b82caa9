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
/// Five NTP-style clients on simulated skewed, drifting, jittery clocks sync to a reference node across a
/// seeded lossy network with random, asymmetric delays. Every 100 ms of true time each client's
/// disciplined clock is compared with the reference's clock at the same true instant.
/// </summary>
public class NtpConvergenceSimulationTests(ITestOutputHelper output)
{
    private static readonly NodeId Reference = new(1);

    private sealed record Outcome(long ConvergedAtMs, long MaxErrorAfterMs, double MeanAbsErrorAfterMs, long Steps, long Discarded, SimFaultCounters Network);

    /// <summary>The reference node: answers each request from its own clock, after the uplink's queueing delay.</summary>
    private sealed class ReferenceNode(Simulator<NtpMessage> sim, SimulatedClock clock, DeterministicRandom queueing, double uplinkQueueingMeanMs) : ISimNode<NtpMessage>
    {
        public void Receive(NodeId from, NtpMessage msg, ISimContext<NtpMessage> ctx)
        {
            if (msg is not NtpRequest request) return;
            var queuedMs = (long)(-uplinkQueueingMeanMs * Math.Log(1 - queueing.NextDouble()));
            if (queuedMs <= 0) Respond(request, ctx);
            else sim.Schedule(ctx.NowMs + queuedMs, () => sim.Invoke<ReferenceNode>(Reference, (node, c) => node.Respond(request, c)));
        }

        public void Tick(ISimContext<NtpMessage> ctx) { }

        private void Respond(NtpRequest request, ISimContext<NtpMessage> ctx)
        {
            var t2 = clock.ReadMs(ctx.NowMs);
            var reply = NtpServer.Respond(Reference, request, t2, t2);
            ctx.Send(reply.To, reply.Message);
        }
    }

    /// <summary>Runs the scenario; <paramref name="settleByMs"/> is the true time after which every sample must be within the bound.</summary>
    /// <param name="uplinkQueueingMeanMs">Mean of an extra exponential delay on requests only (a congested uplink); 0 for none.</param>
    private static Outcome Run(long seed, long endMs, long settleByMs, long boundMs, Func<DeterministicRandom, int, SimulatedClockSpec> clientClock,
        int filterSamplesMax = NtpClockFilter.DefaultSamplesMax, double uplinkQueueingMeanMs = 0)
    {
        var random = new DeterministicRandom(seed);
        var queueing = random.Fork();
        var network = new FaultSpec { DelayMinMs = 1, DelayMaxMs = 10, DropRate = 0.02, Reorder = true };
        // Clients tick every 100 ms at a seeded phase; messages cross the seeded fault planner with no other latency.
        var sim = new Simulator<NtpMessage>(new SimulatorOptions { Seed = random.Fork().Seed, TickIntervalMs = 100, LatencyMinMs = 0, LatencyMaxMs = 0 });
        sim.SetFaults(network);
        var referenceClock = new SimulatedClock(new SimulatedClockSpec { DriftPpm = 5, JitterMs = 0.2 }, random.Fork().Seed);
        var clients = Enumerable.Range(2, 5).Select(i => new NodeId(i)).ToArray();
        var clocks = clients.ToDictionary(n => n, n => new SimulatedClock(clientClock(random, n.Value), random.Fork().Seed));
        var cores = clients.ToDictionary(n => n, n => new NtpClient(n, Reference, new NtpClientSettings { FilterSamplesMax = filterSamplesMax }));
        var options = new ProtocolSimOptions<NtpClient> { ClockMs = (node, trueMs) => clocks[node].ReadMs(trueMs) };
        sim.AddNode(Reference, (_, _) => new ReferenceNode(sim, referenceClock, queueing, uplinkQueueingMeanMs));
        sim.AddNodes(clients, (id, _) => new ProtocolSimNode<NtpClient, NtpMessage, ProtocolReady<NtpMessage>>(cores[id], options));

        long lastViolationMs = 0, maxErrorAfter = 0;
        double absErrorSum = 0;
        long samplesAfter = 0;
        Every(sim, 0, 100, () =>
        {
            var referenceMs = referenceClock.ReadMs(sim.NowMs);
            foreach (var node in clients)
            {
                var errorMs = Math.Abs(cores[node].ReadMs(clocks[node].ReadMs(sim.NowMs)) - referenceMs);
                if (errorMs > boundMs) lastViolationMs = sim.NowMs;
                if (sim.NowMs >= settleByMs)
                {
                    maxErrorAfter = Math.Max(maxErrorAfter, errorMs);
                    absErrorSum += errorMs;
                    samplesAfter++;
                }
            }
        });
        sim.RunFor(endMs);
        return new Outcome(lastViolationMs + 100, maxErrorAfter, absErrorSum / samplesAfter,
            clients.Sum(n => cores[n].Clock.StepCount), clients.Sum(n => cores[n].Status(0).ResponsesDiscarded), sim.FaultCounters);
    }

    /// <summary>Runs <paramref name="action"/> as a simulator event at <paramref name="firstMs"/> and every <paramref name="periodMs"/> after.</summary>
    internal static void Every<TMessage>(Simulator<TMessage> sim, long firstMs, long periodMs, Action action) where TMessage : notnull =>
        sim.Schedule(firstMs, () =>
        {
            action();
            Every(sim, sim.NowMs + periodMs, periodMs, action);
        });

    private static SimulatedClockSpec Skewed(DeterministicRandom random, int node) => new()
    {
        OffsetMs = random.NextInt(-500, 501),
        DriftPpm = random.NextInt(-50, 51),
        JitterMs = 0.2,
    };

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    [InlineData(4L)]
    [InlineData(5L)]
    [InlineData(6L)]
    [InlineData(7L)]
    [InlineData(8L)]
    [InlineData(20261125L)]
    public void FiveNodes_500MsApart_50PpmDrift_ConvergeWithinAFewMsOfTheReference_AndStay(long seed)
    {
        // A residual under the 128 ms step threshold is slewed at 500 ppm: up to 256 s, so allow 300 s to settle.
        // The bound: half the best sample's delay (up to ~3 ms on this network) plus whole-millisecond reads (about ±2 ms).
        const long boundMs = 6, settleByMs = 300_000, endMs = 900_000;
        var outcome = Run(seed, endMs, settleByMs, boundMs, Skewed);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: within {boundMs} ms from {outcome.ConvergedAtMs / 1000.0:F1} s; after {settleByMs / 1000} s max |error| {outcome.MaxErrorAfterMs} ms, mean {outcome.MeanAbsErrorAfterMs:F2} ms; steps {outcome.Steps}, discarded {outcome.Discarded}"));
        Assert.True(outcome.Network.Dropped > 0 && outcome.Network.Delayed > 0, $"seed {seed}: the lossy, delaying network did nothing: {outcome.Network}");
        Assert.True(outcome.ConvergedAtMs <= settleByMs, $"seed {seed}: still beyond {boundMs} ms at {outcome.ConvergedAtMs} ms");
        Assert.True(outcome.MaxErrorAfterMs <= boundMs, $"seed {seed}: error {outcome.MaxErrorAfterMs} ms after settling");
        Assert.True(outcome.MeanAbsErrorAfterMs <= 1.5, $"seed {seed}: mean error {outcome.MeanAbsErrorAfterMs} ms after settling");
    }

    /// <summary>
    /// Requests queue behind uplink traffic (exponential, mean 20 ms), so most samples overestimate the
    /// offset by half their queueing. The 8-sample minimum-delay filter keeps the clocks close; using every
    /// sample as it comes (a 1-sample filter) does not.
    /// </summary>
    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    public void MinimumDelayFilter_KeepsClocksCloseWhenTheUplinkQueues(long seed)
    {
        const long settleByMs = 300_000, endMs = 600_000;
        var filtered = Run(seed, endMs, settleByMs, boundMs: 6, Skewed, filterSamplesMax: 8, uplinkQueueingMeanMs: 20);
        var unfiltered = Run(seed, endMs, settleByMs, boundMs: 6, Skewed, filterSamplesMax: 1, uplinkQueueingMeanMs: 20);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: after {settleByMs / 1000} s, 8-sample filter max {filtered.MaxErrorAfterMs} ms mean {filtered.MeanAbsErrorAfterMs:F2} ms; 1-sample max {unfiltered.MaxErrorAfterMs} ms mean {unfiltered.MeanAbsErrorAfterMs:F2} ms"));
        Assert.True(filtered.MeanAbsErrorAfterMs * 3 < unfiltered.MeanAbsErrorAfterMs,
            $"seed {seed}: filtered mean error {filtered.MeanAbsErrorAfterMs:F2} ms vs unfiltered {unfiltered.MeanAbsErrorAfterMs:F2} ms");
        Assert.True(filtered.MaxErrorAfterMs <= 10, $"seed {seed}: filtered max error {filtered.MaxErrorAfterMs} ms");
        Assert.True(filtered.Network.Dropped > 0 && unfiltered.Network.Dropped > 0, $"seed {seed}: the lossy network dropped nothing");
    }

    [Fact]
    public void AClockThatIsSteppedMidRun_IsPulledBackWithinTheBound()
    {
        const long seed = 5, boundMs = 6;
        // Node 3's clock jumps 700 ms ahead at 400 s (beyond the step threshold, so the client steps back at its next sample).
        var outcome = Run(seed, endMs: 700_000, settleByMs: 300_000, boundMs, (random, node) => Skewed(random, node) with
        {
            Steps = node == 3 ? [new ClockStep(400_000, 700)] : [],
            PeriodicAmplitudeMs = 2,
            PeriodicPeriodMs = 600_000,
        });
        output.WriteLine($"seed {seed}: last sample beyond {boundMs} ms at {outcome.ConvergedAtMs - 100} ms; steps {outcome.Steps}");
        Assert.InRange(outcome.ConvergedAtMs, 400_000, 410_000);
        Assert.True(outcome.Network.Dropped > 0, $"seed {seed}: the lossy network dropped nothing: {outcome.Network}");
    }
}
