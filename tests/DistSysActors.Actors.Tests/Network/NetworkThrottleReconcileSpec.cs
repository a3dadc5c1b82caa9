using Akka.Actor;
using Akka.Configuration;
using Akka.Remote;
using Akka.Remote.Transport;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using Xunit.Abstractions;
using static DistSysActors.Actors.Network.NetworkProtocol;

namespace DistSysActors.Actors.Tests.Network;

/// <summary>
/// The network component re-asserts each link's mode in Akka.Remote's throttler adapter (distsys.network.throttle-reconcile-ms):
/// a link left blackholed in the adapter while the fault spec says it is open is repaired without a new spec.
/// </summary>
public sealed class NetworkThrottleReconcileSpec : TestKit
{
    private static readonly Config Remote = LoopbackRemoting.Config("akka.remote.dot-netty.tcp.applied-adapters = [trttl]\n");

    private static readonly NodeId N2 = new(2);
    private readonly ActorSystem _other;
    private readonly IActorRef _net1;
    private readonly Akka.TestKit.TestProbe _inbox2;
    private readonly Address _address2;

    public NetworkThrottleReconcileSpec(ITestOutputHelper output) : base(Remote, "distsys", output)
    {
        _other = ActorSystem.Create("distsys", Remote);
        var peers = LoopbackRemoting.Peers(Sys, _other);
        _address2 = peers[N2];
        var settings = NetworkSettings.Create(Remote) with { Seed = 42, ThrottleReconcileMs = 500 };
        _net1 = Sys.ActorOf(NetworkActor.Props(new NodeId(1), settings, peers), NetworkActor.Name);
        var net2 = _other.ActorOf(NetworkActor.Props(N2, settings, peers), NetworkActor.Name);
        _inbox2 = CreateTestProbe(_other);
        net2.Tell(new Register("test", _inbox2.Ref));
    }

    protected override void AfterAll()
    {
        _other.Terminate().Wait(TimeSpan.FromSeconds(10));
        base.AfterAll();
    }

    /// <summary>Sends numbered messages to node 2 until one numbered <paramref name="from"/> or later arrives; returns it.</summary>
    private int SendUntilOneArrives(int from, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + Dilated(within);
        for (var i = from; ; i++)
        {
            _net1.Tell(new Send(N2, "test", i));
            if (_inbox2.ReceiveOne(TimeSpan.FromMilliseconds(100)) is int arrived && arrived >= from) return arrived;
            Assert.True(DateTime.UtcNow < deadline, $"no message reached node 2 within {within}");
        }
    }

    [Fact]
    public async Task A_link_blackholed_behind_the_components_back_is_reopened_by_the_spec_in_force()
    {
        Assert.Equal(0, SendUntilOneArrives(0, TimeSpan.FromSeconds(10)));

        // What a stale mode in the adapter amounts to: the link is blocked while the spec (no faults) says it is open.
        var transport = ((IRemoteActorRefProvider)((ExtendedActorSystem)Sys).Provider).Transport;
        Assert.True(await transport.ManagementCommand(new SetThrottle(_address2, ThrottleTransportAdapter.Direction.Both, Blackhole.Instance))
            .WaitAsync(TimeSpan.FromSeconds(5)));

        // Within a reconcile period or two the component installs Unthrottled again, and messages flow (with the
        // reconcile off, none ever arrives).
        Assert.True(SendUntilOneArrives(1000, TimeSpan.FromSeconds(10)) >= 1000);
    }
}
