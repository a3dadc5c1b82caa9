using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Simulation.Paxos;
using static DistSysActors.Core.Paxos.RegisterPaxos;

namespace DistSysActors.Simulation.Tests.Paxos;

/// <summary>
/// Basic Paxos registers under loss, duplication, reordering, partitions and crashes; <see cref="RegisterChecker"/>'s
/// invariants (one value chosen per register, never changed; learners agree; promises survive crashes) hold after every event.
/// </summary>
public sealed class RegisterSimulationTests
{
    private static readonly FaultSpec Lossy = new() { DropRate = 0.1, DuplicateRate = 0.1, DelayMinMs = 0, DelayMaxMs = 15, Reorder = true };
    private static NodeId N(int id) => new(id);

    private static RegisterSimCluster Cluster(long seed, int size = 3, double tornWriteRate = 0) =>
        new(new SimulatorOptions { Seed = seed, TickIntervalMs = 5, TornWriteRate = tornWriteRate }, size);

    [Fact]
    public void Duelling_proposers_with_interleaved_prepares_choose_one_value_and_both_finish_by_backing_off() => FaultTally.Run(30, SimFaults.Drop | SimFaults.Duplicate, seed =>
    {
        var c = Cluster(seed);
        c.Sim.SetFaults(Lossy);
        var a = c.Propose(N(1), "r", "from-1");
        var b = c.Propose(N(2), "r", "from-2");
        Assert.True(c.Sim.RunUntil(() => c.Outcomes.ContainsKey(a) && c.Outcomes.ContainsKey(b), 60_000), $"seed={seed}: the duel did not end: {string.Join(" | ", c.Phases.TakeLast(10))}");
        Assert.Equal(c.Outcomes[a].Value, c.Outcomes[b].Value);
        Assert.Equal(c.Checker.ChosenValue("r"), c.Outcomes[a].Value);
        c.Sim.ClearFaults();
        c.Sim.RunFor(2_000);
        Assert.All(c.Ids, id => Assert.Equal(c.Outcomes[a].Value, c.Core(id)!.Learner.ChosenOf("r")?.Value ?? c.Outcomes[a].Value));
        return c.Sim.FaultCounters;
    });

    [Fact]
    public void Duelling_proposers_preempt_each_other_yet_the_growing_randomized_backoff_ends_every_duel()
    {
        var preempted = 0;
        SeedRunner.Run(30, seed =>
        {
            var c = Cluster(seed);
            // Both proposers' Prepares interleave on every acceptor: each round can be cut short by the other's.
            for (var round = 0; round < 5; round++)
            {
                var name = $"r{round}";
                var a = c.Propose(N(1), name, "one");
                var b = c.Propose(N(3), name, "three");
                Assert.True(c.Sim.RunUntil(() => c.Outcomes.ContainsKey(a) && c.Outcomes.ContainsKey(b), 30_000), $"seed={seed}: duel {name} did not end");
                Assert.Equal(c.Outcomes[a].Value, c.Outcomes[b].Value);
            }
            preempted += c.Phases.Count(p => p.Text.Contains("backs off", StringComparison.Ordinal));
        });
        Assert.True(preempted > 0, "no proposer was ever preempted: the scenario tested no duel");
    }

    [Fact]
    public void Acceptors_crashing_and_restarting_keep_their_promises_and_one_value_stays_chosen() => FaultTally.Run(30, SimFaults.Crash | SimFaults.WriteLost, seed =>
    {
        var c = Cluster(seed, tornWriteRate: 0.5);
        c.Sim.SetFaults(Lossy);
        var random = c.Sim.ForkRandom();
        var requests = new List<long>();
        for (var i = 0; i < 8; i++)
        {
            var at = c.Ids[random.NextInt(0, c.Ids.Length)];
            if (c.Sim.IsUp(at)) requests.Add(c.Propose(at, $"r{i % 3}", $"v{i}"));
            c.Sim.RunFor(random.NextInt(1, 30));
            var victim = c.Ids[random.NextInt(0, c.Ids.Length)];
            if (random.Chance(0.5)) c.Sim.Crash(victim);
            c.Sim.RunFor(random.NextInt(1, 30));
            foreach (var id in c.Ids.Where(id => !c.Sim.IsUp(id))) c.Sim.Restart(id);
        }
        c.Sim.ClearFaults();
        c.Sim.RunFor(3_000);
        // Every register some proposal decided has one value, and every answer gave it.
        foreach (var id in requests.Where(c.Outcomes.ContainsKey))
            Assert.Equal(c.Checker.ChosenValue(c.Outcomes[id].Name), c.Outcomes[id].Value);
        return c.Sim.FaultCounters;
    });

    [Fact]
    public void A_minority_partition_chooses_nothing_and_the_majority_side_decides() => SeedRunner.Run(20, seed =>
    {
        var c = Cluster(seed, size: 5);
        c.Sim.Partition([N(1), N(2)], [N(3), N(4), N(5)]);
        var minority = c.Propose(N(1), "r", "minority");
        c.Sim.RunFor(5_000);
        Assert.False(c.Outcomes.ContainsKey(minority), $"seed={seed}: the minority side decided");
        Assert.Null(c.Checker.ChosenValue("r"));

        var majority = c.Propose(N(4), "r", "majority");
        Assert.True(c.Sim.RunUntil(() => c.Outcomes.ContainsKey(majority), 10_000), $"seed={seed}: the majority side did not decide");
        c.Sim.Heal();
        Assert.True(c.Sim.RunUntil(() => c.Answered(minority), 60_000), $"seed={seed}: the minority proposal was never answered after the heal");
        Assert.Equal(c.Outcomes[majority].Value, c.Checker.ChosenValue("r"));
        if (c.Outcomes.TryGetValue(minority, out var late)) Assert.Equal(c.Checker.ChosenValue("r"), late.Value);
    });

    [Fact]
    public void A_higher_ballot_adopts_a_value_accepted_before_it() 
    {
        var adopted = 0;
        SeedRunner.Run(40, seed =>
        {
            var c = Cluster(seed);
            var random = c.Sim.ForkRandom();
            var first = c.Propose(N(1), "r", "first");
            // Cut node 1 off somewhere in its round: its value may be accepted by some acceptors, not chosen.
            c.Sim.RunFor(random.NextInt(1, 12));
            c.Sim.Isolate(N(1));
            var second = c.Propose(N(3), "r", "second");
            Assert.True(c.Sim.RunUntil(() => c.Outcomes.ContainsKey(second), 30_000), $"seed={seed}: no value chosen");
            var chosen = c.Outcomes[second].Value;
            if (c.Phases.Any(p => p.Node == N(3) && p.Text.Contains("adopts 'first'", StringComparison.Ordinal)))
            {
                adopted++;
                Assert.Equal("first", chosen);
            }
            Assert.Equal(c.Checker.ChosenValue("r"), chosen);
            c.Sim.Heal();
            Assert.True(c.Sim.RunUntil(() => c.Answered(first), 30_000), $"seed={seed}");
            Assert.Equal(chosen, c.Outcomes[first].Value);
        });
        Assert.True(adopted > 0, "no seed made the second proposer adopt an accepted value");
    }

    [Fact]
    public void A_node_that_was_down_when_the_value_was_chosen_reads_it_after_restarting() => SeedRunner.Run(20, seed =>
    {
        var c = Cluster(seed);
        c.Sim.SetFaults(Lossy);
        c.Sim.Crash(N(3));
        var put = c.Propose(N(1), "r", "v");
        Assert.True(c.Sim.RunUntil(() => c.Outcomes.ContainsKey(put), 30_000), $"seed={seed}");
        c.Sim.Restart(N(3));
        c.Sim.RunFor(10);
        var read = c.Read(N(3), "r");
        Assert.True(c.Sim.RunUntil(() => c.Outcomes.ContainsKey(read), 30_000), $"seed={seed}: the read was not answered");
        Assert.Equal("v", c.Outcomes[read].Value);
        Assert.Equal("v", c.Core(N(3))!.Learner.ChosenOf("r")!.Value);
    });

    [Fact]
    public void A_read_of_a_register_nothing_was_proposed_for_answers_none() => SeedRunner.Run(5, seed =>
    {
        var c = Cluster(seed);
        var read = c.Read(N(2), "nothing");
        Assert.True(c.Sim.RunUntil(() => c.Outcomes.ContainsKey(read), 5_000));
        Assert.Null(c.Outcomes[read].Value);
    });
}
