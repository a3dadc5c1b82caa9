using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using Xunit.Abstractions;
using static DistSysActors.Actors.Clocks.ClockProtocol;

namespace DistSysActors.Actors.Tests.Clocks;

/// <summary>
/// The clock actor's wiring over a local network seam, with a scripted host clock that stands still unless the
/// test moves it: every exchange then has zero delay, so estimates are exact and the figures below are not approximations.
/// The synchronization algorithms themselves are tested in Core and Simulation.
/// </summary>
public sealed class ClockActorSpec : TestKit
{
    private readonly ITestOutputHelper _output;

    public ClockActorSpec(ITestOutputHelper output) : base(Config, "clock-spec", output) => _output = output;

    private static readonly Config Config = ConfigurationFactory.ParseString("""
        distsys.clock { burst-samples = 1, poll-interval-ms = 1000, request-timeout-ms = 500 }
        """).WithFallback(DistSysConfig.TestOverlay).WithFallback(DistSysConfig.Reference);

    private static readonly NodeId[] Nodes = [new(1), new(2), new(3)];
    private const long StartMs = 1_700_000_000_000;
    private readonly ManualHostClock _host = new(StartMs);

    private Dictionary<NodeId, (IActorRef Actor, NodeClock Clock)> Start(ClockSettings settings, params long[] skewsMs)
    {
        var network = Sys.ActorOf(LocalClockNetwork.Props());
        var nodes = new Dictionary<NodeId, (IActorRef, NodeClock)>();
        foreach (var (id, skew) in Nodes.Zip(skewsMs))
        {
            var clock = NodeClock.Create(settings with { SkewMs = skew }, _host.NowMs);
            var actor = Sys.ActorOf(ClockActor.Props(id, Nodes, settings with { SkewMs = skew }, network, clock), $"clock-{id.Value}");
            network.Tell(new LocalClockNetwork.Attach(id, actor));
            nodes[id] = (actor, clock);
        }
        return nodes;
    }

    private ClockStatus StatusOf(IActorRef actor) => actor.Ask<ClockStatus>(GetStatus.Instance, TimeSpan.FromSeconds(5)).Result;

    [Fact]
    public void Ntp_estimates_each_offset_as_the_skew_difference_and_steps_every_clock_onto_the_reference()
    {
        var settings = ClockSettings.Create(Config) with { ReferenceNodeId = 2 };
        var nodes = Start(settings, -300, 0, 400);

        AwaitAssert(() => Assert.All(nodes.Values, n => Assert.True(StatusOf(n.Actor).Synced)), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        var reference = StatusOf(nodes[new NodeId(2)].Actor);
        foreach (var (id, (actor, clock)) in nodes)
        {
            var s = StatusOf(actor);
            _output.WriteLine($"node {id}: skew {s.SkewMs}, offset {s.OffsetMs}, delay {s.DelayMs}, correction {s.CorrectionMs}, steps {s.StepCount}");
            Assert.Equal(new NodeId(2), s.ReferenceNodeId);
            Assert.Equal((double)(s.SkewMs - reference.SkewMs), s.OffsetMs!.Value);
            Assert.Equal(0.0, s.CorrectedOffsetMs - reference.CorrectedOffsetMs);
            Assert.Equal(reference.CorrectedMs, clock.ReadMs());
            Assert.Equal(id == new NodeId(2) ? 0 : 1, s.StepCount);
        }
    }

    [Fact]
    public void A_small_offset_is_slewed_in_at_the_slew_rate_never_stepped()
    {
        var settings = ClockSettings.Create(Config) with { ReferenceNodeId = 1 };
        var nodes = Start(settings, 0, 60, -40);
        AwaitAssert(() => Assert.All(nodes.Values, n => Assert.True(StatusOf(n.Actor).SamplesUsed >= 1 || n.Actor.Equals(nodes[new NodeId(1)].Actor))),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        var node2 = nodes[new NodeId(2)];
        Assert.Equal(60.0, StatusOf(node2.Actor).CorrectedOffsetMs);

        // 500 ppm removes 10 ms per 20 s of raw time: after 40 s, 20 of node 2's 60 ms are gone.
        _host.Advance(40_000);
        var halfway = StatusOf(node2.Actor);
        Assert.InRange(halfway.CorrectedOffsetMs, 40 - 0.5, 40 + 0.5);

        // 120 s of slewing covers both offsets.
        _host.Advance(90_000);
        AwaitAssert(() =>
        {
            foreach (var (id, (actor, _)) in nodes)
            {
                var s = StatusOf(actor);
                Assert.InRange(s.CorrectedOffsetMs, -0.5, 0.5);
                Assert.Equal(0, s.StepCount);
                Assert.True(s.Synced, $"node {id} synced");
            }
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public void Berkeley_master_moves_every_clock_to_the_average_and_members_only_slew_backwards()
    {
        var settings = ClockSettings.Create(Config) with { ReferenceNodeId = 1, Mode = ClockSyncMode.Berkeley };
        var nodes = Start(settings, 0, 30, -12);
        AwaitAssert(() => Assert.All(nodes.Values, n => Assert.True(StatusOf(n.Actor).SamplesUsed >= 1)),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        // Offsets from the master 0, +30, -12 average to +6: node 2 is told -24, node 3 +18, the master +6.
        Assert.Equal(24, StatusOf(nodes[new NodeId(2)].Actor).OffsetMs!.Value, 6);
        Assert.Equal(-18, StatusOf(nodes[new NodeId(3)].Actor).OffsetMs!.Value, 6);

        // The host clock has not moved: node 2's backward delta is pending as a slew, its clock not stepped back.
        var node2 = StatusOf(nodes[new NodeId(2)].Actor);
        Assert.Equal(30.0, node2.CorrectedOffsetMs);
        Assert.Equal(24.0, node2.ResidualOffsetMs!.Value, 6);

        _host.Advance(60_000); // slews of at most 24 ms at 500 ppm finish within 48 s
        AwaitAssert(() =>
        {
            foreach (var (id, (actor, _)) in nodes)
            {
                var s = StatusOf(actor);
                Assert.InRange(s.CorrectedOffsetMs, 6 - 0.5, 6 + 0.5);
                Assert.True(s.Synced, $"node {id} synced");
            }
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        Assert.Equal(0, StatusOf(nodes[new NodeId(2)].Actor).StepCount);
    }
}
