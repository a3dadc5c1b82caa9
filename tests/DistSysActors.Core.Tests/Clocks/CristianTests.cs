using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Tests.Clocks;

/// <summary>Cristian 1989: estimate = server time + RTT/2, error at most RTT/2 − minimum one-way delay.</summary>
public class CristianTests
{
    private static readonly NodeId Client = new(2), Server = new(1);

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    public void Estimate_IsServerTimePlusHalfTheRoundTrip_AndTheTrueOffsetLiesWithinTheBound(long seed)
    {
        var random = new DeterministicRandom(seed);
        for (var i = 0; i < 1_000; i++)
        {
            long minDelay = random.NextInt(0, 10), forward = minDelay + random.NextInt(0, 200), back = minDelay + random.NextInt(0, 200);
            long offset = random.NextInt(-10_000, 10_000), sent = random.NextInt(0, 1_000_000);
            var serverTime = sent + forward + offset;
            var received = sent + forward + back;
            var estimate = new CristianEstimate(sent, received, serverTime, minDelay);
            Assert.Equal(serverTime + (forward + back) / 2.0, estimate.ServerNowMs);
            Assert.Equal((forward + back) / 2.0 - minDelay, estimate.ErrorBoundMs);
            Assert.True(Math.Abs(estimate.OffsetMs - offset) <= estimate.ErrorBoundMs,
                $"seed {seed}: offset {offset}, estimate {estimate.OffsetMs} ± {estimate.ErrorBoundMs}");
        }
    }

    [Fact]
    public void Client_KeepsTheTightestEstimate_AndDiscardsStaleAndSlowReplies()
    {
        var client = new CristianClient(Client, Server, new CristianClientSettings { RoundTripMsMax = 100 });
        CristianEstimate? Exchange(long sentMs, long roundTripMs, long serverAheadMs)
        {
            client.Request(sentMs);
            var request = (CristianTimeRequest)Assert.Single(client.TakeOutbox()).Message;
            var reply = (CristianTimeResponse)CristianServer.Respond(Server, request, sentMs + roundTripMs / 2 + serverAheadMs).Message;
            return client.Handle(reply, sentMs + roundTripMs);
        }

        Assert.Equal(40, Exchange(0, 20, 40)!.Value.OffsetMs);
        Assert.Equal(41, Exchange(1_000, 6, 41)!.Value.OffsetMs);
        Assert.NotNull(Exchange(2_000, 60, 42));
        Assert.Null(Exchange(3_000, 150, 43)); // slower than RoundTripMsMax
        Assert.Equal(6, client.Tightest!.Value.RoundTripMs);
        Assert.Equal(60, client.Last!.Value.RoundTripMs);

        client.Request(4_000);
        var stale = (CristianTimeRequest)client.TakeOutbox()[0].Message;
        client.Request(4_010);
        Assert.Null(client.Handle((CristianTimeResponse)CristianServer.Respond(Server, stale, 4_005).Message, 4_012));
        Assert.Equal(2, client.ResponsesDiscarded);
    }
}
