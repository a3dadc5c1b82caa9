using System.Text;
using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Core.Raft;
using DistSysActors.Simulation.Checkers;
using DistSysActors.Simulation.Paxos;
using DistSysActors.Simulation.Raft;
using DistSysActors.Simulation.Tests.Raft;
using static DistSysActors.Core.Paxos.MultiPaxos;
using ProposeStatus = DistSysActors.Core.Paxos.MultiPaxos.ProposeStatus;

namespace DistSysActors.Simulation.Tests.Paxos;

/// <summary>
/// Multi-Paxos and the key-value store on it under faults; <see cref="MultiPaxosChecker"/>'s invariants (one command
/// per slot, decided slots agree and never change, promises survive crashes) hold after every event.
/// </summary>
public sealed class MultiPaxosSimulationTests
{
    private static readonly FaultSpec Lossy = new() { DropRate = 0.05, DuplicateRate = 0.05, DelayMinMs = 0, DelayMaxMs = 10, Reorder = true };
    private static NodeId N(int id) => new(id);
    private static byte[] C(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void A_stable_leader_skips_phase_1_and_spends_one_accept_and_one_accepted_per_peer_per_command() => SeedRunner.Run(10, seed =>
    {
        var c = new MultiPaxosSimCluster(new SimulatorOptions { Seed = seed }, 3);
        var leader = c.RunUntilLeader(10_000) ?? throw new Xunit.Sdk.XunitException($"seed={seed}: no leader");
        c.Sim.RunFor(200);
        var net = c.Sim.Network;
        var (prepares, promises, accepts, accepteds) = (net.SentOf<Prepare>(), net.SentOf<Promise>(), net.SentOf<Accept>(), net.SentOf<Accepted>());
        const int commands = 20;
        for (var i = 0; i < commands; i++)
        {
            var before = c.Core(leader)!.AppliedThrough;
            Assert.Equal(ProposeStatus.Proposed, c.Propose(leader, C($"c{i}"))!.Status);
            Assert.True(c.Sim.RunUntil(() => c.Core(leader)!.AppliedThrough > before, 1_000), $"seed={seed}: command {i} not decided");
        }
        c.Sim.RunFor(50); // the second peer's Accepted of the last command may still be on its way
        Assert.Equal(prepares, net.SentOf<Prepare>());
        Assert.Equal(promises, net.SentOf<Promise>());
        // Two peers: per command one Accept to each and one Accepted from each (the leader's own acceptor is local).
        Assert.Equal(2 * commands, net.SentOf<Accept>() - accepts);
        Assert.Equal(2 * commands, net.SentOf<Accepted>() - accepteds);
    });

    [Fact]
    public void Holes_left_by_a_crashed_leader_are_filled_with_no_ops_and_every_node_agrees() 
    {
        var noOps = 0;
        FaultTally.Run(20, SimFaults.Crash | SimFaults.Drop, seed =>
        {
            var c = new MultiPaxosSimCluster(new SimulatorOptions { Seed = seed }, 3);
            var random = c.Sim.ForkRandom();
            for (var leaderChange = 0; leaderChange < 3; leaderChange++)
            {
                var leader = c.RunUntilLeader(10_000) ?? throw new Xunit.Sdk.XunitException($"seed={seed}: no leader");
                // A burst of commands whose Accepts are half lost, then the leader dies mid-burst.
                c.Sim.SetFaults(new FaultSpec { DropRate = 0.5 });
                for (var i = 0; i < 6; i++)
                {
                    c.Propose(leader, C($"L{leaderChange}-{i}"));
                    c.Sim.RunFor(random.NextInt(0, 3));
                }
                c.Sim.Crash(leader);
                c.Sim.ClearFaults();
                c.RunUntilLeader(10_000);
                c.Sim.Restart(leader);
                c.Sim.RunFor(1_000);
            }
            c.Sim.RunFor(2_000);
            var last = c.Checker.LastDecided;
            foreach (var id in c.Ids) Assert.True(c.Core(id)!.AppliedThrough == last, $"seed={seed}: node {id} applied through {c.Core(id)!.AppliedThrough}, decided through {last}");
            noOps += c.Checker.Decided.Values.Count(d => d.Command is null);
            return c.Sim.FaultCounters;
        });
        Assert.True(noOps > 0, "no hole was ever filled with a no-op");
    }

    [Fact]
    public void A_leader_cut_off_in_a_minority_decides_nothing_and_the_majority_elects_another() => SeedRunner.Run(10, seed =>
    {
        var c = new MultiPaxosSimCluster(new SimulatorOptions { Seed = seed }, 5);
        var leader = c.RunUntilLeader(10_000) ?? throw new Xunit.Sdk.XunitException($"seed={seed}: no leader");
        c.Sim.RunFor(100);
        var minority = new[] { leader, c.Ids.First(id => id != leader) };
        c.Sim.Partition(minority, c.Ids.Except(minority));
        var decided = c.Core(leader)!.AppliedThrough;
        for (var i = 0; i < 5; i++) c.Propose(leader, C($"lost{i}"));
        c.Sim.RunFor(3_000);
        Assert.Equal(decided, c.Core(leader)!.AppliedThrough);
        Assert.False(c.Core(leader)!.IsLeader, $"seed={seed}: the cut-off leader still leads (CheckQuorum)");
        var other = c.Ids.Except(minority).Select(c.Core).Single(n => n!.IsLeader)!;
        Assert.Equal(ProposeStatus.Proposed, c.Propose(other.Id, C("majority"))!.Status);
        c.Sim.Heal();
        c.Sim.RunFor(2_000);
        Assert.All(c.Ids, id => Assert.Equal(c.Checker.LastDecided, c.Core(id)!.AppliedThrough));
    });

    [Fact]
    public void A_lagging_node_catches_up_by_snapshot_after_the_others_compacted() => SeedRunner.Run(10, seed =>
    {
        var c = new MultiPaxosSimCluster(new SimulatorOptions { Seed = seed }, 3, cfg => cfg with { CompactionMarginSlots = 5 }) { SnapshotEverySlots = 20 };
        var leader = c.RunUntilLeader(10_000) ?? throw new Xunit.Sdk.XunitException($"seed={seed}: no leader");
        var laggard = c.Ids.First(id => id != leader);
        c.Sim.Crash(laggard);
        for (var i = 0; i < 100; i++)
        {
            c.Propose(leader, C($"c{i}"));
            c.Sim.RunFor(5);
        }
        c.Sim.RunFor(500);
        Assert.True(c.SnapshotsTaken(leader) > 0, $"seed={seed}: the leader took no snapshot");
        Assert.True(c.Core(leader)!.CompactedThrough >= 20);
        c.Sim.Restart(laggard);
        Assert.True(c.Sim.RunUntil(() => c.Kv(laggard)!.AppliedIndex == c.Kv(leader)!.AppliedIndex, 5_000),
            $"seed={seed}: node {laggard} applied through {c.Kv(laggard)!.AppliedIndex}, leader {c.Kv(leader)!.AppliedIndex}");
        Assert.True(c.Core(laggard)!.CompactedThrough > 0, $"seed={seed}: node {laggard} caught up without a snapshot");
        Assert.Equal(c.Kv(leader)!.Snapshot(), c.Kv(laggard)!.Snapshot());
    });

    /// <summary>One seed of clients under drops, duplicates, reordering, isolations and crashes (tearing writes); returns the fault counters.</summary>
    internal static SimFaultCounters RunKvAndCheck(long seed, ReadMode readMode, bool crashes, int iterations = 12)
    {
        var c = new MultiPaxosSimCluster(new SimulatorOptions { Seed = seed, TornWriteRate = crashes ? 0.5 : 0 }, 5) { SnapshotEverySlots = 40 };
        var random = c.Sim.ForkRandom();
        c.Sim.SetFaults(Lossy);
        var workload = new RaftKvWorkload(c, clients: 5, keys: 3, readsAndCas: true, readMode: readMode);
        workload.Start();
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            c.Sim.RunFor(random.NextInt(50, 250));
            var target = c.Ids[random.NextInt(0, c.Ids.Length)];
            switch (random.NextInt(0, crashes ? 4 : 2))
            {
                case 0: c.Sim.Isolate(target); break;
                case 1: c.Sim.Heal(); break;
                case 2: if (c.Ids.Count(c.Sim.IsUp) > 3) c.Sim.Crash(target); break;
                default: if (!c.Sim.IsUp(target)) c.Sim.Restart(target); break;
            }
        }
        c.Sim.Heal();
        foreach (var id in c.Ids.Where(id => !c.Sim.IsUp(id))) c.Sim.Restart(id);
        c.Sim.RunFor(1_500);
        workload.Stop();
        var result = LinearizabilityChecker.Check(workload.History.Select(RaftKvLinearizabilityTests.ToChecked).ToList());
        if (result.Outcome == CheckOutcome.Unknown) throw new Xunit.Sdk.XunitException($"seed={seed}: the checker ran out of budget: {result.Explanation}");
        if (!result.Ok) throw new Xunit.Sdk.XunitException($"seed={seed}: not linearizable on key {result.Key}: {result.Explanation}");
        if (workload.Completed < 20) throw new Xunit.Sdk.XunitException($"seed={seed}: only {workload.Completed} operations completed");
        return c.Sim.FaultCounters;
    }

    [Fact]
    public void Kv_histories_with_read_rounds_are_linearizable_under_loss_duplication_reordering_and_partitions() =>
        FaultTally.Run(20, SimFaults.Partition | SimFaults.Drop | SimFaults.Duplicate, seed => RunKvAndCheck(seed, ReadMode.ReadIndex, crashes: false));

    [Fact]
    public void Kv_histories_with_lease_reads_are_linearizable_under_partitions() =>
        FaultTally.Run(20, SimFaults.Partition, seed => RunKvAndCheck(seed, ReadMode.Lease, crashes: false));

    [Fact]
    public void Kv_histories_are_linearizable_across_crashes_that_lose_and_tear_writes() =>
        FaultTally.Run(20, SimFaults.Crash | SimFaults.Restart | SimFaults.WriteLost, seed => RunKvAndCheck(seed, ReadMode.ReadIndex, crashes: true));
}
