using DistSysActors.Core;
using DistSysActors.Core.Election;
using DistSysActors.Core.Network;
using DistSysActors.Core.Protocol;
using DistSysActors.Simulation.Protocol;
using BullySimNode = DistSysActors.Simulation.Protocol.ProtocolSimNode<
    DistSysActors.Core.Election.BullyNode, DistSysActors.Core.Election.BullyProtocol.BullyMessage,
    DistSysActors.Core.Protocol.ProtocolReady<DistSysActors.Core.Election.BullyProtocol.BullyMessage>>;

namespace DistSysActors.Simulation.Tests.Election;

/// <summary>The Bully core in the simulator: one leader on a reliable network, a recovering higher id taking over, and two leaders under a partition.</summary>
public sealed class BullySimulationTests
{
    private static readonly NodeId[] Ids = [new(1), new(2), new(3), new(4), new(5)];

    private static Simulator<BullyProtocol.BullyMessage> Cluster(long seed, FaultSpec? faults = null)
    {
        var sim = new Simulator<BullyProtocol.BullyMessage>(new SimulatorOptions { Seed = seed, TickIntervalMs = 50, LatencyMinMs = 1, LatencyMaxMs = 20 });
        if (faults is not null) sim.SetFaults(faults);
        sim.AddNodes(Ids, (id, _) => new BullySimNode(new BullyNode(id, Ids)));
        return sim;
    }

    private static BullyNode? Core(Simulator<BullyProtocol.BullyMessage> sim, NodeId id) => sim.Node<BullySimNode>(id)?.Core;

    private static NodeId[] Leaders(Simulator<BullyProtocol.BullyMessage> sim) =>
        [.. Ids.Where(id => Core(sim, id) is { State: BullyState.Leader })];

    /// <summary>Every live node in <paramref name="group"/> follows (or is) <paramref name="leader"/>.</summary>
    private static bool AllFollow(Simulator<BullyProtocol.BullyMessage> sim, IEnumerable<NodeId> group, NodeId leader) =>
        group.Where(sim.IsUp).All(id => Core(sim, id)!.LeaderId == leader && Core(sim, id)!.State is BullyState.Leader or BullyState.Follower);

    [Fact]
    public void On_a_reliable_network_the_highest_id_is_elected_and_stays_the_only_leader() => SeedRunner.Run(10, seed =>
    {
        var sim = Cluster(seed);
        Assert.True(sim.RunUntil(() => AllFollow(sim, Ids, Ids[4]), 5_000), $"seed={seed}: no agreement on node 5\n{sim.Report("bully")}");
        for (var t = 0; t < 50; t++)
        {
            sim.RunFor(100);
            Assert.Equal([Ids[4]], Leaders(sim));
            Assert.True(AllFollow(sim, Ids, Ids[4]), $"seed={seed}: a node stopped following node 5 at {sim.NowMs} ms");
        }
    });

    [Fact]
    public void When_the_leader_crashes_the_next_highest_takes_over_and_the_recovered_higher_id_bullies_it_back() => SeedRunner.Run(10, seed =>
    {
        var sim = Cluster(seed);
        Assert.True(sim.RunUntil(() => AllFollow(sim, Ids, Ids[4]), 5_000), $"seed={seed}");

        sim.Crash(Ids[4]);
        var crashedAt = sim.NowMs;
        Assert.True(sim.RunUntil(() => AllFollow(sim, Ids, Ids[3]), 10_000), $"seed={seed}: node 4 was not elected\n{sim.Report("bully")}");
        // Detection (the leader timeout) plus one answer timeout: the algorithm's own bound.
        Assert.True(sim.NowMs - crashedAt <= BullyConfig.Default.LeaderTimeoutMs + BullyConfig.Default.AnswerTimeoutMs + 500, $"seed={seed}: took {sim.NowMs - crashedAt} ms");

        sim.Restart(Ids[4]);
        Assert.True(sim.RunUntil(() => AllFollow(sim, Ids, Ids[4]), 5_000), $"seed={seed}: the recovered node 5 did not take over\n{sim.Report("bully")}");
        Assert.Equal(BullyState.Follower, Core(sim, Ids[3])!.State);
    });

    /// <summary>The point of the scenario: Bully assumes a synchronous network, so a partition gives each side its own leader.</summary>
    [Fact]
    public void A_partition_gives_each_side_its_own_leader_at_the_same_time_and_healing_leaves_one() => SeedRunner.Run(10, seed =>
    {
        var sim = Cluster(seed);
        Assert.True(sim.RunUntil(() => AllFollow(sim, Ids, Ids[4]), 5_000), $"seed={seed}");

        NodeId[] minority = [Ids[3], Ids[4]], majority = [Ids[0], Ids[1], Ids[2]];
        sim.Partition(majority, minority);
        Assert.True(sim.RunUntil(() => AllFollow(sim, majority, Ids[2]) && AllFollow(sim, minority, Ids[4]), 10_000),
            $"seed={seed}: the sides did not each elect a leader\n{sim.Report("bully")}");
        Assert.Equal([Ids[2], Ids[4]], Leaders(sim)); // two leaders at once
        Assert.True(sim.FaultCounters.DroppedByPartition > 0, $"seed={seed}: {sim.FaultCounters}");

        sim.Heal();
        Assert.True(sim.RunUntil(() => AllFollow(sim, Ids, Ids[4]), 5_000), $"seed={seed}: no single leader after healing\n{sim.Report("bully")}");
        Assert.Equal([Ids[4]], Leaders(sim));
    });

    [Fact]
    public void Message_loss_delays_but_does_not_prevent_agreement_on_the_highest_id() => SeedRunner.Run(10, seed =>
    {
        var sim = Cluster(seed, new FaultSpec { DropRate = 0.1, DuplicateRate = 0.05 });
        sim.RunFor(5_000);
        Assert.True(sim.RunUntil(() => AllFollow(sim, Ids, Ids[4]), 15_000), $"seed={seed}\n{sim.Report("bully")}");
        Assert.True(sim.FaultCounters.Dropped > 0, $"seed={seed}: {sim.FaultCounters}");
    });
}
