using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Core.Ping;
using DistSysActors.Core.Protocol;
using DistSysActors.Simulation.Protocol;
using PingSimNode = DistSysActors.Simulation.Protocol.ProtocolSimNode<
    DistSysActors.Core.Ping.PingPong, DistSysActors.Core.Ping.PingProtocol.PingMessage,
    DistSysActors.Core.Protocol.ProtocolReady<DistSysActors.Core.Ping.PingProtocol.PingMessage>>;

namespace DistSysActors.Simulation.Tests.PingTopic;

/// <summary>The ping protocol's core in the simulator, hosted by the same executor its actor uses.</summary>
public class PingSimulationTests
{
    private static readonly NodeId[] Ids = [new(1), new(2), new(3)];

    [Fact]
    public void Pongs_keep_arriving_through_loss_duplication_and_a_crash_and_stop_across_a_partition() => SeedRunner.Run(10, seed =>
    {
        var sim = new Simulator<PingProtocol.PingMessage>(new SimulatorOptions { Seed = seed, TickIntervalMs = 100 });
        sim.SetFaults(new FaultSpec { DropRate = 0.2, DuplicateRate = 0.1 });
        sim.AddNodes(Ids, (id, _) => new PingSimNode(new PingPong(id, Ids)));
        PingProtocol.Stats StatsOf(NodeId id) => ((PingSimNode)sim.Node(id)!).Core.Stats(sim.NowMs);

        sim.Schedule(2_000, () => sim.Crash(Ids[2]));
        sim.Schedule(4_000, () => sim.Restart(Ids[2]));
        sim.RunFor(10_000);
        // Node 1 hears from both peers, node 3 (a new incarnation since 4 s) too.
        Assert.All(StatsOf(Ids[0]).Peers.Values, p => Assert.True(p.PongsReceived > 0 && p.LastPongAgeMs < 1_000, $"seed={seed}: {p}"));
        Assert.All(StatsOf(Ids[2]).Peers.Values, p => Assert.True(p.PongsReceived > 0, $"seed={seed}: {p}"));

        // Cut node 3 off: nodes 1 and 2 keep hearing each other and stop hearing it.
        sim.Partition([Ids[0], Ids[1]], [Ids[2]]);
        sim.RunFor(500); // what was already on the wire may still land
        var before = StatsOf(Ids[0]).Peers;
        sim.RunFor(3_000);
        var after = StatsOf(Ids[0]).Peers;
        Assert.Equal(before[Ids[2]].PongsReceived, after[Ids[2]].PongsReceived);
        Assert.True(after[Ids[1]].PongsReceived > before[Ids[1]].PongsReceived, $"seed={seed}: no pong from node 2 during the partition");
        Assert.True(after[Ids[2]].LastPongAgeMs >= 3_000, $"seed={seed}: {after[Ids[2]]}");

        // The faults really happened.
        var faults = sim.FaultCounters;
        Assert.True(faults.Dropped > 0 && faults.Duplicated > 0 && faults.Crashes == 1 && faults.DroppedByPartition > 0, $"seed={seed}: {faults}");
    });
}
