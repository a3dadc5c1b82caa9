using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Network;
using DistSysActors.Actors.Tests.Clocks;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using Xunit.Abstractions;
using static DistSysActors.Actors.Network.NetworkProtocol;

namespace DistSysActors.Actors.Tests.Network;

/// <summary>HLC stamping by the network component between two actor systems over real Akka.Remote, with scripted clocks.</summary>
public sealed class NetworkHlcSpec : TestKit
{
    private static readonly Config Remote = LoopbackRemoting.Config();

    private const long HostStartMs = 1_700_000_000_000;
    private const long MaxOffsetMs = 500;
    private static readonly NodeId N1 = new(1), N2 = new(2);
    private readonly ActorSystem _other;
    private readonly ManualHostClock _host = new(HostStartMs);

    public NetworkHlcSpec(ITestOutputHelper output) : base(Remote, "distsys", output) => _other = ActorSystem.Create("distsys", Remote);

    protected override void AfterAll()
    {
        _other.Terminate().Wait(TimeSpan.FromSeconds(10));
        base.AfterAll();
    }

    /// <summary>Node 1's clock runs <paramref name="aheadMs"/> ahead of node 2's; returns both network components, clocks and inboxes.</summary>
    private (IActorRef Net1, NodeClock Clock1, Akka.TestKit.TestProbe Inbox1, IActorRef Net2, NodeClock Clock2, Akka.TestKit.TestProbe Inbox2) Start(long aheadMs)
    {
        var peers = LoopbackRemoting.Peers(Sys, _other);
        var settings = NetworkSettings.Create(Remote);
        var clock1 = new NodeClock(new InjectedSkew(aheadMs, 0, HostStartMs), MaxOffsetMs, _host.NowMs);
        var clock2 = new NodeClock(InjectedSkew.None, MaxOffsetMs, _host.NowMs);
        var net1 = Sys.ActorOf(NetworkActor.Props(N1, settings, peers, clock: clock1), NetworkActor.Name);
        var net2 = _other.ActorOf(NetworkActor.Props(N2, settings, peers, clock: clock2), NetworkActor.Name);
        var inbox1 = CreateTestProbe(Sys);
        var inbox2 = CreateTestProbe(_other);
        net1.Tell(new Register("test", inbox1.Ref));
        net2.Tell(new Register("test", inbox2.Ref));
        return (net1, clock1, inbox1, net2, clock2, inbox2);
    }

    [Fact]
    public void A_message_from_a_node_whose_clock_is_ahead_moves_the_receivers_hlc_past_its_stamp_and_the_reply_past_that()
    {
        var (net1, clock1, inbox1, net2, clock2, inbox2) = Start(aheadMs: 200);
        net1.Tell(new Send(N2, "test", "hello"));
        inbox2.ExpectMsg("hello", TimeSpan.FromSeconds(10));
        var sent = clock1.Hlc;
        Assert.Equal(new HlcTimestamp(HostStartMs + 200, 0), sent);
        // Node 2's own physical time is 200 ms behind; its HLC took the sender's l and ordered the receive after the send.
        Assert.Equal(new HlcTimestamp(HostStartMs + 200, 1), clock2.Hlc);
        Assert.Equal(HostStartMs, clock2.ReadMs());

        net2.Tell(new Send(N1, "test", "reply"));
        inbox1.ExpectMsg("reply", TimeSpan.FromSeconds(10));
        Assert.Equal(new HlcTimestamp(HostStartMs + 200, 2), clock2.Hlc);
        Assert.Equal(new HlcTimestamp(HostStartMs + 200, 3), clock1.Hlc);
        Assert.Equal(0, clock1.HlcRejected + clock2.HlcRejected);
    }

    [Fact]
    public void A_stamp_beyond_the_maximum_offset_is_counted_and_not_merged_but_the_message_is_delivered()
    {
        var (net1, clock1, _, _, clock2, inbox2) = Start(aheadMs: MaxOffsetMs + 300);
        net1.Tell(new Send(N2, "test", "from the future"));
        inbox2.ExpectMsg("from the future", TimeSpan.FromSeconds(10));
        AwaitAssert(() => Assert.Equal(1, clock2.HlcRejected), TimeSpan.FromSeconds(5));
        Assert.Equal(HlcTimestamp.Zero, clock2.Hlc);
        Assert.Equal(clock1.Hlc, clock2.LastRejection!.Remote);
        Assert.Equal(MaxOffsetMs + 300, clock2.LastRejection.AheadMs);
    }
}
