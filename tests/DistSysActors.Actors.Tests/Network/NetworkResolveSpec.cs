using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using Xunit.Abstractions;
using static DistSysActors.Actors.Network.NetworkProtocol;

namespace DistSysActors.Actors.Tests.Network;

/// <summary>A node missing from the peer directory (a server added to the cluster later) is reached through the resolver.</summary>
public sealed class NetworkResolveSpec : TestKit
{
    private static readonly NodeId N1 = new(1), N2 = new(2), N3 = new(3);
    private readonly ActorSystem _other;

    public NetworkResolveSpec(ITestOutputHelper output) : base(LoopbackRemoting.Config(), "distsys", output)
    {
        _other = ActorSystem.Create("distsys", LoopbackRemoting.Config());
    }

    protected override void AfterAll()
    {
        _other.Terminate().Wait(TimeSpan.FromSeconds(10));
        base.AfterAll();
    }

    [Fact]
    public void A_peer_unknown_at_start_is_resolved_on_first_send_and_an_unresolvable_one_is_unroutable()
    {
        var all = LoopbackRemoting.Peers(Sys, _other);
        var settings = NetworkSettings.Create(LoopbackRemoting.Config());
        // Node 1 starts knowing only itself; node 2 knows both (it answers to node 1 by its directory).
        var net1 = Sys.ActorOf(NetworkActor.Props(N1, settings, ImmutableSortedDictionary<NodeId, Address>.Empty.Add(N1, all[N1]),
            resolve: id => id == N2 ? all[N2] : null), NetworkActor.Name);
        var net2 = _other.ActorOf(NetworkActor.Props(N2, settings, all), NetworkActor.Name);
        var inbox2 = CreateTestProbe(_other);
        net2.Tell(new Register("test", inbox2.Ref));

        AwaitAssert(() =>
        {
            net1.Tell(new Send(N2, "test", "hello"));
            inbox2.ExpectMsg("hello", TimeSpan.FromMilliseconds(500));
        }, TimeSpan.FromSeconds(10));
        net1.Tell(new Send(N3, "test", "lost"));
        net1.Tell(GetStatus.Instance, TestActor);
        Assert.Equal(1, ExpectMsg<NetworkStatus>().Unroutable);
    }
}
