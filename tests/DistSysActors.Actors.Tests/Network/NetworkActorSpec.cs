using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.Network;
using Xunit.Abstractions;
using static DistSysActors.Actors.Network.NetworkProtocol;

namespace DistSysActors.Actors.Tests.Network;

/// <summary>The network component between two actor systems over real Akka.Remote on loopback.</summary>
public sealed class NetworkActorSpec : TestKit
{
    private static readonly Config Remote = LoopbackRemoting.Config();

    private static readonly NodeId N1 = new(1), N2 = new(2);
    private readonly ActorSystem _other;
    private readonly IActorRef _net1, _net2;
    private readonly Akka.TestKit.TestProbe _inbox2;

    public NetworkActorSpec(ITestOutputHelper output) : base(Remote, "distsys", output)
    {
        _other = ActorSystem.Create("distsys", Remote);
        var peers = LoopbackRemoting.Peers(Sys, _other);
        var settings = NetworkSettings.Create(Remote) with { Seed = 42 };
        _net1 = Sys.ActorOf(NetworkActor.Props(N1, settings, peers), NetworkActor.Name);
        _net2 = _other.ActorOf(NetworkActor.Props(N2, settings, peers), NetworkActor.Name);
        _inbox2 = CreateTestProbe(_other);
        _net2.Tell(new Register("test", _inbox2.Ref));
    }

    protected override void AfterAll()
    {
        _other.Terminate().Wait(TimeSpan.FromSeconds(10));
        base.AfterAll();
    }


    private void Apply(FaultSpec spec)
    {
        _net1.Tell(new SetFaults(spec), TestActor);
        ExpectMsg<FaultsApplied>();
        _net2.Tell(new SetFaults(spec), TestActor);
        ExpectMsg<FaultsApplied>();
    }

    /// <summary>Sends payloads 0..count-1 from node 1 to node 2, then an end marker after healing, and returns what arrived before the marker.</summary>
    private List<int> SendAndCollect(int count)
    {
        for (var i = 0; i < count; i++) _net1.Tell(new Send(N2, "test", i));
        Apply(FaultSpec.None);
        _net1.Tell(new Send(N2, "test", "end"));
        var received = new List<int>();
        while (true)
        {
            var msg = _inbox2.ExpectMsg<object>(TimeSpan.FromSeconds(10));
            if (msg is "end") return received;
            received.Add((int)msg);
        }
    }

    [Fact]
    public void Without_faults_every_message_arrives_once_and_in_order()
    {
        Assert.Equal(Enumerable.Range(0, 200), SendAndCollect(200));
    }

    [Fact]
    public void A_partition_delivers_nothing_and_heal_restores_delivery()
    {
        Apply(FaultSpec.Partition([1], [2]));
        Assert.Empty(SendAndCollect(50));
        _net1.Tell(GetStatus.Instance);
        var status = ExpectMsg<NetworkStatus>();
        Assert.Equal(50, status.Sent.DroppedByPartition);
    }

    [Fact]
    public void A_partition_installed_only_on_the_receiver_still_cuts_the_link()
    {
        _net2.Tell(new SetFaults(FaultSpec.Partition([1], [2])));
        ExpectMsg<FaultsApplied>();
        for (var i = 0; i < 20; i++) _net1.Tell(new Send(N2, "test", i));
        AwaitAssert(() =>
        {
            _net2.Tell(GetStatus.Instance);
            Assert.Equal(20, ExpectMsg<NetworkStatus>().ReceivedDroppedByPartition);
        }, TimeSpan.FromSeconds(10));
        _inbox2.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Drop_rate_one_half_loses_about_half()
    {
        Apply(new FaultSpec { DropRate = 0.5, Seed = 7 });
        var received = SendAndCollect(1000);
        // Binomial(1000, 0.5): sd ~ 16; 6 sd either side.
        Assert.InRange(received.Count, 400, 600);
        Assert.Equal(received.Order(), received);
    }

    [Fact]
    public void Duplicate_rate_one_delivers_everything_twice()
    {
        Apply(new FaultSpec { DuplicateRate = 1.0, Seed = 3 });
        var received = SendAndCollect(100);
        Assert.Equal(Enumerable.Range(0, 100).SelectMany(i => new[] { i, i }), received);
    }

    [Fact]
    public void Delay_holds_messages_for_at_least_the_minimum_and_keeps_fifo_without_reorder()
    {
        Apply(new FaultSpec { DelayMinMs = 150, DelayMaxMs = 250, Seed = 5 });
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++) _net1.Tell(new Send(N2, "test", i));
        var received = Enumerable.Range(0, 20).Select(_ => _inbox2.ExpectMsg<int>(TimeSpan.FromSeconds(5))).ToList();
        Assert.True(watch.ElapsedMilliseconds >= 150, $"first batch arrived after {watch.ElapsedMilliseconds} ms");
        Assert.Equal(Enumerable.Range(0, 20), received);
    }

    [Fact]
    public void Reorder_lets_delayed_messages_overtake_each_other()
    {
        Apply(new FaultSpec { DelayMinMs = 0, DelayMaxMs = 200, Reorder = true, Seed = 11 });
        for (var i = 0; i < 50; i++) _net1.Tell(new Send(N2, "test", i));
        var received = Enumerable.Range(0, 50).Select(_ => _inbox2.ExpectMsg<int>(TimeSpan.FromSeconds(5))).ToList();
        Assert.Equal(Enumerable.Range(0, 50), received.Order());
        Assert.NotEqual(Enumerable.Range(0, 50), received);
    }

    [Fact]
    public void An_invalid_spec_is_rejected_and_changes_nothing()
    {
        Apply(new FaultSpec { DropRate = 0.25 });
        _net1.Tell(new SetFaults(new FaultSpec { DropRate = 2, DelayMinMs = 9, DelayMaxMs = 1 }));
        var rejected = ExpectMsg<FaultsRejected>();
        Assert.Contains(rejected.Errors, e => e.Contains("dropRate"));
        Assert.Contains(rejected.Errors, e => e.Contains("delayMs"));
        _net1.Tell(GetStatus.Instance);
        Assert.Equal(0.25, ExpectMsg<NetworkStatus>().Spec.DropRate);
    }
}
