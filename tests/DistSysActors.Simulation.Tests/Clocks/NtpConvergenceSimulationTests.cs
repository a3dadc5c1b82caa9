using System.Globalization;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Network;
using DistSysActors.Simulation.Clocks;
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

    private sealed record Outcome(long ConvergedAtMs, long MaxErrorAfterMs, double MeanAbsErrorAfterMs, long Steps, long Discarded, NetworkCounters Network);

    /// <summary>Runs the scenario; <paramref name="settleByMs"/> is the true time after which every sample must be within the bound.</summary>
    /// <param name="uplinkQueueingMeanMs">Mean of an extra exponential delay on requests only (a congested uplink); 0 for none.</param>
    private static Outcome Run(long seed, long endMs, long settleByMs, long boundMs, Func<DeterministicRandom, int, SimulatedClockSpec> clientClock,
        int filterSamplesMax = NtpClockFilter.DefaultSamplesMax, double uplinkQueueingMeanMs = 0)
    {
        var random = new DeterministicRandom(seed);
        var queueing = random.Fork();
        var network = new FaultSpec { DelayMinMs = 1, DelayMaxMs = 10, DropRate = 0.02, Reorder = true };
        var loop = new VirtualTimeLoop(network, random.Fork().Seed);
        var referenceClock = new SimulatedClock(new SimulatedClockSpec { DriftPpm = 5, JitterMs = 0.2 }, random.Fork().Seed);
        var clients = Enumerable.Range(2, 5).Select(i => new NodeId(i)).ToArray();
        var clocks = clients.ToDictionary(n => n, n => new SimulatedClock(clientClock(random, n.Value), random.Fork().Seed));
        var cores = clients.ToDictionary(n => n, n => new NtpClient(n, Reference, new NtpClientSettings { FilterSamplesMax = filterSamplesMax }));

        void Flush(NodeId node)
        {
            foreach (var o in cores[node].TakeOutbox())
                loop.Send(node, o.To, (NtpRequest)o.Message, request => loop.At(loop.NowMs + (long)(-uplinkQueueingMeanMs * Math.Log(1 - queueing.NextDouble())), () =>
                {
                    var t2 = referenceClock.ReadMs(loop.NowMs);
                    var reply = NtpServer.Respond(Reference, request, t2, t2);
                    loop.Send(Reference, reply.To, (NtpResponse)reply.Message, response => cores[node].Handle(response, clocks[node].ReadMs(loop.NowMs)));
                }));
        }

        foreach (var node in clients)
            loop.Every(random.NextInt(0, 100), 100, () => { cores[node].Tick(clocks[node].ReadMs(loop.NowMs)); Flush(node); });

        long lastViolationMs = 0, maxErrorAfter = 0;
        double absErrorSum = 0;
        long samplesAfter = 0;
        loop.Every(0, 100, () =>
        {
            var referenceMs = referenceClock.ReadMs(loop.NowMs);
            foreach (var node in clients)
            {
                var errorMs = Math.Abs(cores[node].ReadMs(clocks[node].ReadMs(loop.NowMs)) - referenceMs);
                if (errorMs > boundMs) lastViolationMs = loop.NowMs;
                if (loop.NowMs >= settleByMs)
                {
                    maxErrorAfter = Math.Max(maxErrorAfter, errorMs);
                    absErrorSum += errorMs;
                    samplesAfter++;
                }
            }
        });
        loop.RunUntil(endMs);
        return new Outcome(lastViolationMs + 100, maxErrorAfter, absErrorSum / samplesAfter,
            clients.Sum(n => cores[n].Clock.StepCount), clients.Sum(n => cores[n].Status(0).ResponsesDiscarded), loop.NetworkCounters);
    }

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
