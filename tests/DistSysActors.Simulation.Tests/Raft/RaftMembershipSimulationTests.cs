using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Core.Raft;
using DistSysActors.Simulation.Raft;
using static DistSysActors.Simulation.Tests.Raft.RaftScenarioChecks;

namespace DistSysActors.Simulation.Tests.Raft;

/// <summary>
/// Membership changes (single-server, Raft dissertation chapter 4) and leadership transfer (3.10) on the simulator, under
/// client load; safety is checked after every event and the client histories for linearizability.
/// </summary>
public sealed class RaftMembershipSimulationTests
{
    private static NodeId N(int id) => new(id);

    /// <summary>Nodes 1..voters form the cluster, the others run outside it; hosts snapshot, so learners may catch up by InstallSnapshot.</summary>
    private static RaftSimCluster Cluster(long seed, int size, int voters) =>
        new(new SimulatorOptions { Seed = seed }, size, config => config with { SnapshotChunkBytes = 256 }, voters) { SnapshotEntries = 32 };

    private static readonly FaultSpec Unreliable = new() { DropRate = 0.03, DuplicateRate = 0.02, DelayMinMs = 0, DelayMaxMs = 10, Reorder = true };

    /// <summary>Cuts a random node off now and then, and heals, while a membership step runs.</summary>
    private static void Disturb(RaftSimCluster c, DeterministicRandom random)
    {
        if (random.Chance(0.3)) c.Sim.Isolate(c.Ids[random.NextInt(0, c.Ids.Length)]);
        else c.Sim.Heal();
        c.Sim.RunFor(random.NextInt(20, 200));
        c.Sim.Heal();
    }

    [Fact]
    public void GrowFromThreeToFiveAndShrinkBackUnderLoadAndFaults() => FaultTally.Run(20, SimFaults.Partition, seed =>
    {
        var c = Cluster(seed, 5, voters: 3);
        var random = c.Sim.ForkRandom();
        ElectedLeader(c);
        c.Sim.SetFaults(Unreliable);
        var workload = new RaftKvWorkload(c, clients: 4, keys: 4, readsAndCas: true, timeoutMs: 400);
        workload.Start();
        // The learners arrive after the leader compacted its log, so they catch up through InstallSnapshot.
        Check(c.Sim.RunUntil(() => c.Leader() is { } l && c.Raft(l)!.FirstLogIndex > 1, 10_000), c, "the leader never compacted");
        c.Sim.RunFor(random.NextInt(0, 300));
        foreach (var id in new[] { N(4), N(5) })
        {
            Disturb(c, random);
            c.AddVoter(id, 20_000);
        }
        Check(c.Checker.CommittedMembership.Voters.Length == 5, c, $"grown to {c.Checker.CommittedMembership}");
        Check(c.SnapshotsInstalled(N(4)) > 0 && c.SnapshotsInstalled(N(5)) > 0, c, "a learner caught up without InstallSnapshot");
        c.Sim.RunFor(random.NextInt(100, 400));
        // Shrink by two of the original nodes, the current leader among them half of the time.
        var leader = ElectedLeader(c, 10_000);
        var removed = random.Chance(0.5)
            ? new[] { leader, c.InitialVoters.First(id => id != leader) }
            : c.InitialVoters.Where(id => id != leader).Take(2).ToArray();
        foreach (var id in removed)
        {
            Disturb(c, random);
            c.ChangeMembership(new ConfChange(ConfChangeType.RemoveNode, id), 20_000);
        }
        var remaining = c.Ids.Except(removed).ToArray();
        Check(c.Checker.CommittedMembership.Voters.SequenceEqual(remaining), c, $"shrunk to {c.Checker.CommittedMembership}");
        c.Sim.RunFor(random.NextInt(100, 400));
        Settle(c, workload, remaining);
        Check(c.Leader() is { } last && remaining.Contains(last), c, "the leader is not one of the remaining members");
        CheckHistory(c, workload, completedMin: 20);
        CheckFaults(c, SimFaults.Drop | SimFaults.Duplicate);
        return c.Sim.FaultCounters;
    });

    [Fact]
    public void RemovingTheLeaderMakesItStepDownAndTheRestKeepServing() => SeedRunner.Run(20, seed =>
    {
        var c = Cluster(seed, 4, voters: 3);
        var random = c.Sim.ForkRandom();
        ElectedLeader(c);
        var workload = new RaftKvWorkload(c, clients: 3, keys: 3, readsAndCas: true);
        workload.Start();
        c.AddVoter(N(4));
        c.Sim.RunFor(random.NextInt(0, 300));
        var old = ElectedLeader(c);
        c.ChangeMembership(new ConfChange(ConfChangeType.RemoveNode, old));
        var rest = c.Ids.Where(id => id != old).ToArray();
        // The removed leader hands over once the change commits: a successor within an election timeout or two.
        Check(c.Sim.RunUntil(() => c.Raft(old)!.Role != RaftRole.Leader, 500), c, $"removed leader {old} did not step down");
        var next = ElectedLeader(c, 1_000, rest);
        var completed = workload.Completed;
        c.Sim.RunFor(1_000);
        Check(workload.Completed >= completed + 10, c, $"only {workload.Completed - completed} operations completed after the leader's removal");
        Check(c.Leader() == next && c.Raft(old)!.Role != RaftRole.Leader, c, "leadership moved again without failures");
        Settle(c, workload, rest);
        CheckHistory(c, workload, completedMin: 20);
    });

    /// <summary>
    /// A removed voter that keeps running, and keeps timing out because no leader talks to it any more, must not depose the
    /// leader or raise the cluster's term (PreVote and the voters' leases, dissertation 4.2.3).
    /// </summary>
    private static SimFaultCounters RemovedNodeRun(long seed, bool partitionedDuringRemoval)
    {
        var c = Cluster(seed, 4, voters: 4);
        var random = c.Sim.ForkRandom();
        var leader = ElectedLeader(c);
        var victim = c.Ids.Where(id => id != leader).ElementAt(random.NextInt(0, 3));
        var workload = new RaftKvWorkload(c, clients: 2, keys: 3, readsAndCas: false);
        workload.Start();
        c.Sim.RunFor(random.NextInt(0, 300));
        if (partitionedDuringRemoval) c.Sim.Isolate(victim); // it never hears of its removal and still believes it is a voter
        c.ChangeMembership(new ConfChange(ConfChangeType.RemoveNode, victim));
        c.Sim.RunFor(random.NextInt(0, 300));
        c.Sim.Heal();
        var rest = c.Ids.Where(id => id != victim).ToArray();
        leader = ElectedLeader(c, 5_000, rest);
        var term = c.Raft(leader)!.Term;
        var votesAsked = 0;
        c.Sim.TraceListener = e =>
        {
            if (e.Kind == SimTraceKind.Sent && e.Node == victim && e.Detail is RequestVote) votesAsked++;
        };
        c.Sim.RunFor(2_000); // ten or more election timeouts of the removed node
        Check(c.Raft(victim) is not null, c, "the removed node should still be running");
        Check(c.Leader(rest) == leader, c, $"leader {leader} was deposed");
        Check(rest.All(id => c.Raft(id)!.Term == term), c, $"the cluster's term moved from {term}");
        if (partitionedDuringRemoval) Check(votesAsked > 0, c, "the removed node never campaigned: the scenario tested nothing");
        Settle(c, workload, rest);
        CheckHistory(c, workload, completedMin: 10);
        return c.Sim.FaultCounters;
    }

    /// <remarks>Summed over seeds: once the removal is appended only the victim's own campaigning can cross the cut.</remarks>
    [Fact]
    public void RemovedNodeThatMissedItsRemovalCannotDisruptTheCluster() =>
        FaultTally.Run(15, SimFaults.Partition, seed => RemovedNodeRun(seed, partitionedDuringRemoval: true));

    [Fact]
    public void RemovedNodeCannotDisruptTheCluster() => SeedRunner.Run(15, seed => RemovedNodeRun(seed, partitionedDuringRemoval: false));

    [Fact]
    public void LeadershipTransfersUnderLoadAndFaultsKeepHistoriesLinearizable() => SeedRunner.Run(20, seed =>
    {
        var c = Cluster(seed, 5, voters: 5);
        var random = c.Sim.ForkRandom();
        ElectedLeader(c);
        c.Sim.SetFaults(Unreliable);
        var workload = new RaftKvWorkload(c, clients: 4, keys: 4, readsAndCas: true, readMode: random.Chance(0.5) ? ReadMode.Lease : ReadMode.ReadIndex);
        workload.Start();
        var transfers = 0;
        for (var i = 0; i < 6; i++)
        {
            c.Sim.RunFor(random.NextInt(50, 300));
            if (c.Leader() is not { } leader) continue;
            var target = c.Ids.Where(id => id != leader).ElementAt(random.NextInt(0, c.Ids.Length - 1));
            if (c.TryTransferLeadership(target, 3_000)) transfers++;
        }
        Check(transfers >= 3, c, $"only {transfers} of 6 transfers completed");
        Settle(c, workload, c.Ids);
        CheckHistory(c, workload, completedMin: 20);
        CheckFaults(c, SimFaults.Drop | SimFaults.Duplicate);
    });

    [Fact]
    public void TransferToACaughtUpFollowerCompletesWithinOneElectionTimeout() => SeedRunner.Run(30, seed =>
    {
        var c = Cluster(seed, 3, voters: 3);
        var random = c.Sim.ForkRandom();
        var leader = ElectedLeader(c);
        var workload = new RaftKvWorkload(c, clients: 3, keys: 3, readsAndCas: false);
        workload.Start();
        c.Sim.RunFor(random.NextInt(100, 500));
        leader = ElectedLeader(c);
        var target = c.Ids.Where(id => id != leader).ElementAt(random.NextInt(0, 2));
        Check(c.Sim.RunUntil(() => c.Raft(leader)!.Peers.Single(p => p.Node == target).Match == c.Raft(leader)!.LastLogIndex, 1_000), c,
            $"follower {target} never caught up");
        var electionTimeoutMs = c.ConfigFor(target).ElectionTicks * c.Sim.Options.TickIntervalMs;
        var started = false;
        c.Sim.Invoke<RaftSimNode>(leader, (node, ctx) => started = node.TransferLeadership(target, ctx));
        Check(started, c, "the leader refused the transfer");
        var startMs = c.Sim.NowMs;
        Check(c.Sim.RunUntil(() => c.Leader() == target, electionTimeoutMs - 1), c,
            $"transfer to {target} took more than one election timeout ({electionTimeoutMs} ms)");
        var tookMs = c.Sim.NowMs - startMs;
        Check(c.Sim.RunUntil(() => c.Raft(leader)!.Role == RaftRole.Follower, electionTimeoutMs), c, "the old leader did not step down");
        Settle(c, workload, c.Ids);
        Check(tookMs < electionTimeoutMs, c, $"transfer took {tookMs} ms");
    });
}
