using DistSysActors.Core.Ping;

namespace DistSysActors.Core.Tests.Ping;

public class PingPongTests
{
    private static readonly NodeId A = new(1), B = new(2), C = new(3);

    [Fact]
    public void A_tick_pings_every_peer_but_itself_after_persisting_nothing()
    {
        var core = new PingPong(A, [A, B, C]);
        core.Tick(100);
        var ready = core.TakeReady();
        Assert.Empty(ready.Writes);
        Assert.Equal([B, C], ready.MessagesAfterPersist.Select(m => m.To));
        Assert.All(ready.MessagesAfterPersist, m => Assert.Equal(new PingProtocol.Ping(A, 1, 100), m.Message));
        core.Advance(ready);
        Assert.False(core.HasReady);
        Assert.Equal(1, core.Stats(100).Peers[B].PingsSent);
    }

    [Fact]
    public void A_ping_is_answered_with_a_pong_carrying_its_sequence_and_send_time()
    {
        var core = new PingPong(B, [A, B]);
        core.Step(new PingProtocol.Ping(A, 7, 1_000), 1_010);
        var ready = core.TakeReady();
        var pong = Assert.Single(ready.MessagesAfterPersist);
        Assert.Equal(A, pong.To);
        Assert.Equal(new PingProtocol.Pong(B, 7, 1_000), pong.Message);
        core.Advance(ready);
        Assert.Equal(1, core.Stats(1_010).Peers[A].PingsReceived);
    }

    [Fact]
    public void A_pong_gives_the_round_trip_from_the_time_the_ping_carried_and_its_age_grows_with_time()
    {
        var core = new PingPong(A, [A, B]);
        core.Tick(100);
        core.Advance(core.TakeReady());
        core.Step(new PingProtocol.Pong(B, 1, 100), 130);
        var peer = core.Stats(130).Peers[B];
        Assert.Equal((1L, 30L, 0L), (peer.PongsReceived, peer.LastRttMs!.Value, peer.LastPongAgeMs!.Value));
        Assert.Equal(470, core.Stats(600).Peers[B].LastPongAgeMs);
        Assert.Empty(core.CheckInvariants());
    }

    [Fact]
    public void A_peer_not_yet_heard_from_has_no_round_trip_and_no_pong_age()
    {
        var core = new PingPong(A, [A, B]);
        var peer = core.Stats(0).Peers[B];
        Assert.Null(peer.LastRttMs);
        Assert.Null(peer.LastPongAgeMs);
    }
}
