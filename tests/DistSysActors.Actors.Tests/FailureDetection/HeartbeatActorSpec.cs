using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.FailureDetection;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.Network;
using Xunit.Abstractions;
using static DistSysActors.Actors.FailureDetection.HeartbeatProtocol;

namespace DistSysActors.Actors.Tests.FailureDetection;

/// <summary>Three actor systems over real Akka.Remote on loopback, each with a network component and a heartbeat actor.</summary>
public sealed class HeartbeatActorSpec : TestKit
{
    // Fast heartbeats so a partition is detected in well under a second: 100 ms interval, 400 ms acceptable pause
    // (stretched by the test time factor, so a loaded machine's scheduling pauses are not taken for a partition).
    private static readonly Config Remote = LoopbackRemoting.Config($$"""
        distsys.failure-detector {
          heartbeat-interval-ms = 100
          first-heartbeat-estimate-ms = 100
          acceptable-heartbeat-pause-ms = {{(int)(400 * DistSysConfig.TestTimeFactor)}}
          min-std-deviation-ms = 50
          tick-ms = 20
        }
        """);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private static readonly NodeId N1 = new(1), N2 = new(2), N3 = new(3);
    private readonly ActorSystem[] _systems;
    private readonly IActorRef[] _networks;
    private readonly IActorRef[] _heartbeats;

    public HeartbeatActorSpec(ITestOutputHelper output) : base(Remote, "distsys", output)
    {
        _systems = [Sys, ActorSystem.Create("distsys", Remote), ActorSystem.Create("distsys", Remote)];
        var ids = new[] { N1, N2, N3 };
        var peers = LoopbackRemoting.Peers(_systems);
        var network = NetworkSettings.Create(Remote) with { Seed = 42 };
        var settings = FailureDetectionSettings.Create(Remote);
        _networks = ids.Select((id, i) => _systems[i].ActorOf(NetworkActor.Props(id, network, peers), NetworkActor.Name)).ToArray();
        _heartbeats = ids.Select((id, i) => _systems[i].ActorOf(HeartbeatActor.Props(id, ids, settings, _networks[i]), "heartbeat")).ToArray();
    }

    protected override void AfterAll()
    {
        foreach (var system in _systems.Skip(1)) system.Terminate().Wait(TimeSpan.FromSeconds(10));
        base.AfterAll();
    }

    private DetectorStatus StatusOf(int node)
    {
        _heartbeats[node - 1].Tell(GetStatus.Instance, TestActor);
        return ExpectMsg<DetectorStatus>();
    }

    private void ApplyEverywhere(FaultSpec spec)
    {
        foreach (var network in _networks)
        {
            network.Tell(new NetworkProtocol.SetFaults(spec), TestActor);
            ExpectMsg<NetworkProtocol.FaultsApplied>();
        }
    }

    private void AwaitAllMonitoringEachOther() => AwaitAssert(() =>
    {
        for (var node = 1; node <= 3; node++)
        {
            var status = StatusOf(node);
            Assert.Equal(Enumerable.Range(1, 3).Where(i => i != node), status.Peers.Select(p => p.NodeId.Value));
            Assert.All(status.Peers, p => Assert.True(p.Monitoring && p.Available && p.LastHeartbeatAgeMs < 1_000,
                $"node {node} on peer {p.NodeId}: {p}"));
        }
    }, Patience, TimeSpan.FromMilliseconds(100));

    [Fact]
    public void Heartbeats_flow_through_the_network_component_and_every_peer_is_available()
    {
        AwaitAllMonitoringEachOther();
        var status = StatusOf(1);
        Assert.Equal("phi", status.Detector);
        Assert.True(status.HeartbeatsSent >= 2 && status.MessagesReceived >= 2, status.ToString());
        Assert.All(status.Peers, p => Assert.True(p.Phi < 8, $"phi of live peer {p.NodeId} is {p.Phi}"));
        // They really went through the network component: its counters saw them.
        _networks[0].Tell(NetworkProtocol.GetStatus.Instance, TestActor);
        Assert.True(ExpectMsg<NetworkProtocol.NetworkStatus>().Sent.Delivered >= status.HeartbeatsSent);
    }

    [Fact]
    public void A_partition_makes_the_cut_off_peer_unavailable_publishes_an_event_and_heal_restores_it()
    {
        AwaitAllMonitoringEachOther();
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(PeerReachabilityChanged));

        ApplyEverywhere(FaultSpec.Partition([1, 2], [3]));
        var down = events.FishForMessage<PeerReachabilityChanged>(e => e.Peer == N3, Patience);
        Assert.Equal(N1, down.Observer);
        Assert.False(down.Reachable);
        Assert.True(down.Phi >= 8, $"suspected at phi {down.Phi}");
        var status = StatusOf(1);
        Assert.False(status.Peers.Single(p => p.NodeId == N3).Available);
        Assert.True(status.Peers.Single(p => p.NodeId == N2).Available, "node 2, on the same side, stays available");
        Assert.Equal(1, status.Suspicions);

        ApplyEverywhere(FaultSpec.None);
        var up = events.FishForMessage<PeerReachabilityChanged>(e => e.Peer == N3, Patience);
        Assert.True(up.Reachable);
        Assert.Equal(N1, up.Observer);
        Assert.True(StatusOf(1).Peers.Single(p => p.NodeId == N3).Available);
    }

    [Fact]
    public void A_dead_peer_is_suspected_by_both_survivors()
    {
        AwaitAllMonitoringEachOther();
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(PeerReachabilityChanged));
        _systems[2].Stop(_heartbeats[2]);
        var down = events.FishForMessage<PeerReachabilityChanged>(e => e.Peer == N3 && !e.Reachable, Patience);
        Assert.Equal(N1, down.Observer);
        AwaitAssert(() => Assert.False(StatusOf(2).Peers.Single(p => p.NodeId == N3).Available), Patience);
        Assert.True(StatusOf(2).Peers.Single(p => p.NodeId == N1).Available);
    }
}
