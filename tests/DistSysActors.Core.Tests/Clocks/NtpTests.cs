using DistSysActors.Core;
using DistSysActors.Core.Clocks;

namespace DistSysActors.Core.Tests.Clocks;

/// <summary>NTP on-wire arithmetic (RFC 5905 section 8), clock filter (section 10) and the client core.</summary>
public class NtpTests
{
    private static readonly NodeId Client = new(2), Server = new(1);

    /// <summary>One exchange: the server's clock reads client + offset; forward and back delays and processing in true ms.</summary>
    private static NtpSample Exchange(long t1, long offsetMs, long forwardMs, long processingMs, long backMs)
    {
        var t2 = t1 + forwardMs + offsetMs;
        var t3 = t2 + processingMs;
        var t4 = t3 - offsetMs + backMs;
        return new NtpSample(t1, t2, t3, t4);
    }

    [Fact]
    public void SymmetricDelays_OffsetIsExact_AndDelayExcludesServerProcessing()
    {
        var random = new DeterministicRandom(5);
        for (var i = 0; i < 1_000; i++)
        {
            long offset = random.NextInt(-100_000, 100_000), oneWay = random.NextInt(0, 500), processing = random.NextInt(0, 50);
            var sample = Exchange(random.NextInt(0, 1_000_000), offset, oneWay, processing, oneWay);
            Assert.Equal(offset, sample.OffsetMs);
            Assert.Equal(2 * oneWay, sample.DelayMs);
        }
    }

    [Theory]
    [InlineData(11L)]
    [InlineData(12L)]
    [InlineData(13L)]
    public void AsymmetricDelays_OffsetErrorIsHalfTheAsymmetry_AndWithinHalfTheDelay(long seed)
    {
        var random = new DeterministicRandom(seed);
        for (var i = 0; i < 1_000; i++)
        {
            long offset = random.NextInt(-100_000, 100_000), forward = random.NextInt(0, 500), back = random.NextInt(0, 500);
            var sample = Exchange(random.NextInt(0, 1_000_000), offset, forward, random.NextInt(0, 50), back);
            var error = sample.OffsetMs - offset;
            Assert.True((forward - back) / 2.0 == error, $"seed {seed}: forward {forward} back {back}: error {error}");
            Assert.True(Math.Abs(error) <= sample.ErrorBoundMs, $"seed {seed}: error {error} beyond bound {sample.ErrorBoundMs}");
        }
    }

    [Fact]
    public void Filter_KeepsTheLastEight_AndPicksTheMinimumDelay()
    {
        var filter = new NtpClockFilter();
        var fast = Exchange(0, 7, 1, 0, 1);
        filter.Add(fast);
        for (var i = 1; i <= 7; i++) filter.Add(Exchange(i * 1_000, 7, 10 + i, 0, 10));
        Assert.Equal(fast, filter.Best);
        filter.Add(Exchange(8_000, 7, 30, 0, 30));
        Assert.Equal(8, filter.Count);
        Assert.DoesNotContain(fast, filter.Samples);
        Assert.Equal(filter.Samples.Min(s => s.DelayMs), filter.Best!.Value.DelayMs);
    }

    /// <summary>
    /// Delays are a fixed floor plus exponential queueing, far heavier on the way out (a congested uplink),
    /// so most samples are biased. The minimum-delay sample of each window of 8 has both legs near the floor.
    /// </summary>
    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    public void MinimumDelayFilter_BeatsTheMeanOffsetUnderJitter(long seed)
    {
        var random = new DeterministicRandom(seed);
        double Queueing(double meanMs) => -meanMs * Math.Log(1 - random.NextDouble());
        const long trueOffsetMs = 250;
        double filterErrorSum = 0, meanErrorSum = 0;
        const int windows = 300;
        for (var w = 0; w < windows; w++)
        {
            var filter = new NtpClockFilter();
            var offsets = new List<double>();
            for (var i = 0; i < 8; i++)
            {
                var forward = (long)(5 + Queueing(20));
                var back = (long)(5 + Queueing(3));
                var sample = Exchange(w * 100_000 + i * 1_000, trueOffsetMs, forward, 1, back);
                filter.Add(sample);
                offsets.Add(sample.OffsetMs);
            }
            filterErrorSum += Math.Abs(filter.Best!.Value.OffsetMs - trueOffsetMs);
            meanErrorSum += Math.Abs(offsets.Average() - trueOffsetMs);
        }
        var filterError = filterErrorSum / windows;
        var meanError = meanErrorSum / windows;
        Assert.True(filterError < meanError / 2, $"seed {seed}: min-delay filter error {filterError:F2} ms, mean error {meanError:F2} ms");
    }

    [Fact]
    public void Client_PollsTheServerAtTheInterval()
    {
        var client = new NtpClient(Client, Server, new NtpClientSettings { PollIntervalMs = 1_000 });
        client.Tick(100);
        var first = Assert.Single(client.TakeMessages());
        Assert.Equal(Server, first.To);
        Assert.Equal(new NtpRequest(Client, 1, 100), first.Message);
        client.Tick(1_099);
        Assert.Empty(client.TakeMessages());
        client.Tick(1_100);
        Assert.Equal(2, ((NtpRequest)Assert.Single(client.TakeMessages()).Message).RequestId);
    }

    /// <summary>Runs one poll against a server whose clock reads raw + <paramref name="serverAheadMs"/>, with one-way delay <paramref name="oneWayMs"/>.</summary>
    private static ClockAdjustment? Poll(NtpClient client, long rawMs, long serverAheadMs, long oneWayMs)
    {
        client.Tick(rawMs);
        var request = (NtpRequest)Assert.Single(client.TakeMessages()).Message;
        var serverNow = rawMs + oneWayMs + serverAheadMs;
        var reply = NtpServer.Respond(Server, request, serverNow, serverNow);
        return client.Handle((NtpResponse)reply.Message, rawMs + 2 * oneWayMs);
    }

    [Fact]
    public void Client_StepsALargeOffset_ThenSlewsSmallOnes()
    {
        var client = new NtpClient(Client, Server, new NtpClientSettings { PollIntervalMs = 1_000 });
        var step = Poll(client, 10_000, serverAheadMs: 300, oneWayMs: 5);
        Assert.Equal(ClockAdjustmentKind.Step, step!.Value.Kind);
        Assert.Equal(10_010 + 300, client.ReadMs(10_010));
        var status = client.Status(10_010);
        Assert.Equal(-300, status.RawOffsetMs);
        Assert.Equal(0, status.OffsetMs);
        Assert.True(status.Synced);

        var slew = Poll(client, 11_000, serverAheadMs: 320, oneWayMs: 2);
        Assert.Equal(ClockAdjustmentKind.Slew, slew!.Value.Kind);
        Assert.Equal(320, client.Clock.TargetCorrectionMs, 9);
        Assert.Equal(1, client.Clock.StepCount);
    }

    [Fact]
    public void Client_UsesOnlyANewerBestSample()
    {
        var client = new NtpClient(Client, Server);
        Assert.NotNull(Poll(client, 1_000, serverAheadMs: 40, oneWayMs: 2));
        // A slower sample does not displace the best one, and the best one is not used twice.
        Assert.Null(Poll(client, 2_000, serverAheadMs: 90, oneWayMs: 30));
        Assert.Equal(40, client.Clock.TargetCorrectionMs, 9);
        Assert.Equal(1, client.Status(2_060).SamplesUsed);
    }

    [Fact]
    public void Client_IgnoresAnIsolatedSpike_ButBelievesAJumpThatPersists()
    {
        var client = new NtpClient(Client, Server, new NtpClientSettings { StepOutSamples = 3 });
        Poll(client, 1_000, serverAheadMs: 10, oneWayMs: 5);
        Assert.Null(Poll(client, 2_000, serverAheadMs: 900, oneWayMs: 1)); // a spike, however fast
        Poll(client, 3_000, serverAheadMs: 11, oneWayMs: 6);
        Assert.Equal(10, client.Clock.TargetCorrectionMs, 9);

        // The reference really jumped (or this raw clock did): the older samples are stale and forgotten.
        Assert.Null(Poll(client, 4_000, serverAheadMs: -600, oneWayMs: 6));
        Assert.Null(Poll(client, 5_000, serverAheadMs: -600, oneWayMs: 6));
        var step = Poll(client, 6_000, serverAheadMs: -600, oneWayMs: 6);
        Assert.Equal(ClockAdjustmentKind.Step, step!.Value.Kind);
        Assert.Equal(-600, client.Clock.CorrectionMs, 9);
        Assert.All(client.Filter.Samples, s => Assert.Equal(-600, s.OffsetMs));
    }

    [Fact]
    public void Client_PollsAndUsesNewSamples_AfterTheRawClockJumpsBack()
    {
        var client = new NtpClient(Client, Server, new NtpClientSettings { PollIntervalMs = 1_000 });
        Poll(client, 10_000, serverAheadMs: 0, oneWayMs: 5);
        // The raw clock is set back 100 ms (below the step threshold) 50 ms later: the reference now looks 100 ms ahead.
        var adjustment = Poll(client, 9_950, serverAheadMs: 100, oneWayMs: 2);
        Assert.Equal(ClockAdjustmentKind.Slew, adjustment!.Value.Kind);
        Assert.Equal(100, client.Clock.TargetCorrectionMs, 9);
        Assert.Equal(2, client.Status(9_960).SamplesUsed);
    }

    [Fact]
    public void Client_DiscardsDuplicateStaleAndForgedResponses()
    {
        var client = new NtpClient(Client, Server, new NtpClientSettings { PollIntervalMs = 1_000 });
        client.Tick(0);
        var request = (NtpRequest)client.TakeMessages()[0].Message;
        var reply = (NtpResponse)NtpServer.Respond(Server, request, 10, 10).Message;
        client.Tick(1_000); // the first request is abandoned for a new one
        var second = (NtpRequest)client.TakeMessages()[0].Message;
        Assert.Null(client.Handle(reply, 1_001));
        Assert.Null(client.Handle(reply with { RequestId = second.RequestId }, 1_001)); // origin timestamp does not match
        Assert.Null(client.Handle((NtpResponse)NtpServer.Respond(new NodeId(9), second, 1_005, 1_005).Message, 1_010));
        var good = (NtpResponse)NtpServer.Respond(Server, second, 1_005, 1_005).Message;
        Assert.NotNull(client.Handle(good, 1_010));
        Assert.Null(client.Handle(good, 1_011)); // duplicate
        Assert.Equal(4, client.Status(1_011).ResponsesDiscarded);
    }

    [Fact]
    public void Client_AbandonsARequestAfterTheTimeout()
    {
        var client = new NtpClient(Client, Server, new NtpClientSettings { PollIntervalMs = 10_000, RequestTimeoutMs = 500 });
        client.Tick(0);
        var request = (NtpRequest)client.TakeMessages()[0].Message;
        client.Tick(500);
        Assert.Null(client.Handle((NtpResponse)NtpServer.Respond(Server, request, 250, 250).Message, 501));
    }

    [Fact]
    public void ClientSettings_AreValidatedNamingTheField()
    {
        var error = Assert.Throws<ArgumentException>(() => new NtpClient(Client, Server, new NtpClientSettings { PollIntervalMs = 0 }));
        Assert.Contains("pollIntervalMs", error.Message);
    }
}
