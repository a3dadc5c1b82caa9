using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;
using DistSysActors.Simulation;
using DistSysActors.Simulation.Raft;

namespace DistSysActors.Simulation.Tests.Raft;

/// <summary>
/// Raft on the simulator, one scenario per test, many seeds each (DISTSYS_SEEDS scales them for a soak;
/// DISTSYS_SEED replays one). Safety invariants are checked after every event by <see cref="RaftInvariantChecker"/>;
/// the assertions here check liveness and the scenario's own claim.
/// </summary>
public sealed class RaftScenarioTests
{
    private static NodeId N(int id) => new(id);

    private static void Check(bool condition, RaftSimCluster c, string what)
    {
        if (!condition) throw new Xunit.Sdk.XunitException($"seed={c.Seed} t={c.Sim.NowMs}ms: {what}; {c.Describe()}");
    }

    private static NodeId ElectedLeader(RaftSimCluster c, long maxMs = 5_000, IEnumerable<NodeId>? among = null)
    {
        var leader = c.RunUntilLeader(maxMs, among);
        Check(leader is not null, c, "no leader elected");
        return leader!.Value;
    }

    [Fact]
    public void InitialElection() => SeedRunner.Run(100, seed =>
    {
        var c = new RaftSimCluster(seed, 3);
        var leader = ElectedLeader(c, 2_000);
        var term = c.Raft(leader)!.Term;
        c.Sim.RunFor(2_000);
        // Without faults the leader keeps its term and everyone follows it.
        Check(c.Leader() == leader && c.Raft(leader)!.Term == term, c, "leadership changed without failures");
        Check(c.Live.All(n => n.Term == term && n.LeaderId == leader), c, "nodes disagree on term or leader");
    });

    [Fact]
    public void ReElectionAfterLeaderLoss() => SeedRunner.Run(80, seed =>
    {
        var c = new RaftSimCluster(seed, 3);
        var first = ElectedLeader(c);
        c.Sim.Isolate(first);
        var second = ElectedLeader(c, 5_000, c.Ids.Where(id => id != first));
        c.Sim.Heal();
        c.Sim.RunFor(1_000);
        // The old leader rejoins as a follower and does not disrupt the new one.
        Check(c.Leader() == second && c.Raft(first)!.Role == RaftRole.Follower && c.Raft(first)!.LeaderId == second, c, "old leader disrupted the new one");

        c.Sim.Partition([1], [2], [3]);
        c.Sim.RunFor(1_000);
        Check(c.Live.All(n => n.Role != RaftRole.Leader), c, "a leader survived without a quorum");
        c.Sim.Heal();
        ElectedLeader(c);
        RaftScenarioChecks.CheckFaults(c, SimFaults.Partition);
    });

    [Fact]
    public void ManyElectionsWithRandomDisconnects() => SeedRunner.Run(40, seed =>
    {
        var c = new RaftSimCluster(seed, 7);
        var random = c.Sim.ForkRandom();
        ElectedLeader(c);
        for (var i = 0; i < 8; i++)
        {
            var cut = c.Ids.OrderBy(_ => random.NextInt(0, 1_000)).Take(3).ToArray();
            var rest = c.Ids.Except(cut).ToArray();
            c.Sim.Partition([rest, .. cut.Select(n => new[] { n })]);
            ElectedLeader(c, 5_000, rest);
            // A leader already among the rest is found at once: let the cut nodes miss a heartbeat round, so every
            // seed's partition cuts messages (the fault check below needs them).
            c.Sim.RunFor(30);
            c.Sim.Heal();
            c.Sim.RunFor(random.NextInt(0, 200));
        }
        ElectedLeader(c);
        RaftScenarioChecks.CheckFaults(c, SimFaults.Partition);
    });

    [Fact]
    public void BasicAgreement() => SeedRunner.Run(100, seed =>
    {
        var c = new RaftSimCluster(seed, 3);
        ElectedLeader(c);
        long lastIndex = 0;
        for (var i = 0; i < 3; i++)
        {
            var put = c.NewPut("k", $"v{i}");
            c.Commit(put, 3);
            var index = c.Checker.Committed.Last(e => KvCodec.Decode(e.Data)?.ClientId == put.ClientId).Index;
            Check(index > lastIndex, c, "commit indexes must grow");
            lastIndex = index;
        }
        Check(c.Ids.All(id => c.Node(id)!.Kv.Get("k") == "v2"), c, "replicas disagree");
    });

    [Fact]
    public void ProgressWithFollowerDown() => SeedRunner.Run(80, seed =>
    {
        var c = new RaftSimCluster(seed, 3);
        var leader = ElectedLeader(c);
        c.Commit(c.NewPut("a", "1"), 3);
        var follower = c.Ids.First(id => id != leader);
        c.Crash(follower);
        c.Commit(c.NewPut("b", "2"), 2);
        c.Commit(c.NewPut("c", "3"), 2);
        c.Restart(follower);
        var last = c.NewPut("d", "4");
        c.Commit(last, 3);
        Check(c.Node(follower)!.Kv.Get("c") == "3", c, "restarted follower did not catch up");
        RaftScenarioChecks.CheckFaults(c, SimFaults.Crash | SimFaults.Restart | SimFaults.LostToCrash);
    });

    [Fact]
    public void NoCommitWithoutMajority() => SeedRunner.Run(80, seed =>
    {
        var c = new RaftSimCluster(seed, 5);
        var leader = ElectedLeader(c);
        c.Commit(c.NewPut("a", "1"), 5);
        var others = c.Ids.Where(id => id != leader).ToArray();
        var put = c.NewPut("b", "2"); // its client registers before the cut
        c.Sim.Partition([leader, others[0]], [others[1]], [others[2]], [others[3]]);
        c.Sim.Inject(leader, new RaftClientCommand(c.NextRequestId(), put));
        c.Sim.RunFor(1_000);
        Check(c.AppliedCount(put) == 0, c, "applied without a majority");
        Check(c.Live.All(n => n.CommitIndex == c.Raft(leader)!.CommitIndex || n.Id != leader), c, "leader commit moved");
        c.Sim.Heal();
        c.Commit(c.NewPut("c", "3"), 5);
        RaftScenarioChecks.CheckFaults(c, SimFaults.Partition);
    });

    [Fact]
    public void ConcurrentProposals() => SeedRunner.Run(80, seed =>
    {
        var c = new RaftSimCluster(seed, 3);
        var leader = ElectedLeader(c);
        c.RegisterClientsAhead(10);
        var puts = Enumerable.Range(0, 10).Select(i => c.NewPut($"k{i}", $"v{i}")).ToArray();
        foreach (var put in puts) c.Sim.Inject(leader, new RaftClientCommand(c.NextRequestId(), put));
        Check(c.Sim.RunUntil(() => puts.All(p => c.AppliedCount(p) == 3), 5_000), c, "concurrent proposals not all applied");
        var committed = c.CommittedCommands();
        foreach (var put in puts)
            Check(committed.Count(x => x.ClientId == put.ClientId) == 1, c, $"{put} committed other than once");
    });

    [Fact]
    public void RejoinOfPartitionedLeaderOverwritesItsUncommittedEntries() => SeedRunner.Run(80, seed =>
    {
        var c = new RaftSimCluster(seed, 3);
        var first = ElectedLeader(c);
        c.Commit(c.NewPut("a", "1"), 3);
        var lost = Enumerable.Range(0, 3).Select(i => c.NewPut("x", $"lost{i}")).ToArray(); // clients registered before the cut
        c.Sim.Isolate(first);
        foreach (var put in lost) c.Sim.Inject(first, new RaftClientCommand(c.NextRequestId(), put));
        var second = ElectedLeader(c, 5_000, c.Ids.Where(id => id != first));
        c.Commit(c.NewPut("b", "2"), 2);
        c.Sim.Isolate(second); // the old leader comes back while the new one is cut off
        c.Commit(c.NewPut("c", "3"), 2);
        c.Sim.Heal();
        c.Commit(c.NewPut("d", "4"), 3);
        foreach (var put in lost) Check(c.AppliedCount(put) == 0, c, $"uncommitted {put} of a deposed leader was applied");
        var logs = c.Live.Select(n => n.Log.Take((int)c.Checker.Committed.Count).ToList()).ToList();
        Check(logs.All(l => l.SequenceEqual(logs[0])), c, "committed logs differ");
        RaftScenarioChecks.CheckFaults(c, SimFaults.Partition);
    });

    [Fact]
    public void FastBackupOverManyDivergentEntries() => SeedRunner.Run(40, seed =>
    {
        var c = new RaftSimCluster(seed, 5);
        var rejections = 0;
        c.Sim.TraceListener = e =>
        {
            if (e.Kind == SimTraceKind.Sent && e.Detail is AppendEntriesResponse { Success: false, RejectedIndex: > 0 }) rejections++;
        };
        var leader1 = ElectedLeader(c);
        c.Commit(c.NewPut("a", "1"), 5);
        var others = c.Ids.Where(id => id != leader1).ToArray();
        c.RegisterClientsAhead(50);
        var lost1 = Enumerable.Range(0, 50).Select(i => c.NewPut("x", $"lost{i}")).ToArray(); // clients registered before the cut
        // Leader 1 and one follower are cut off; 50 entries pile up uncommitted on leader 1.
        c.Sim.Partition([leader1, others[0]], [others[1], others[2], others[3]]);
        foreach (var put in lost1) c.Sim.Inject(leader1, new RaftClientCommand(c.NextRequestId(), put));
        c.Sim.RunFor(50);
        var group = new[] { others[1], others[2], others[3] };
        var leader2 = ElectedLeader(c, 5_000, group);
        c.RegisterClientsAhead(50);
        var batch = Enumerable.Range(0, 50).Select(i => c.NewPut("y", $"kept{i}")).ToArray();
        foreach (var put in batch) c.Sim.Inject(leader2, new RaftClientCommand(c.NextRequestId(), put));
        foreach (var put in batch) c.Commit(put, 3);
        // Leader 2 and one follower are cut off with 50 more uncommitted entries; the rest, with leader 1's divergent log, take over.
        var other = group.First(id => id != leader2);
        var majority = c.Ids.Where(id => id != leader2 && id != other).ToArray();
        c.RegisterClientsAhead(50);
        var lost2 = Enumerable.Range(0, 50).Select(i => c.NewPut("z", $"lost{i}")).ToArray();
        c.Sim.Partition([leader2, other], majority);
        foreach (var put in lost2) c.Sim.Inject(leader2, new RaftClientCommand(c.NextRequestId(), put));
        c.Sim.RunFor(50);
        ElectedLeader(c, 5_000, majority);
        c.RegisterClientsAhead(50);
        var batch2 = Enumerable.Range(0, 50).Select(i => c.NewPut("w", $"kept{i}")).ToArray();
        foreach (var put in batch2) c.Commit(put, 3);
        c.Sim.Heal();
        c.Commit(c.NewPut("final", "1"), 5);
        Check(c.Ids.All(id => c.Node(id)!.Kv.Get("w") == "kept49"), c, "not every node caught up");
        // One or two refusals per diverging term, not one per entry.
        Check(rejections <= 40, c, $"{rejections} AppendEntries refusals: backtracking is not fast");
        RaftScenarioChecks.CheckFaults(c, SimFaults.Partition);
    });

    [Fact]
    public void BoundedMessageCountsForElectionAndAgreement() => SeedRunner.Run(60, seed =>
    {
        var c = new RaftSimCluster(seed, 3);
        ElectedLeader(c);
        var electionMessages = c.Sim.Network.MessagesSent;
        // One round is 12 messages (PreVote, vote, first append, each with an answer); split votes cost more rounds.
        // The 6.5840 lab allows 30 RPCs (60 messages with answers) to elect the first leader of three.
        Check(electionMessages <= 60, c, $"election took {electionMessages} messages");
        c.RegisterClientsAhead(10); // the clients of the measured commands, registered before counting
        c.Sim.RunFor(100);
        var term = c.Live.Max(n => n.Term);
        var sentBefore = c.Sim.Network.MessagesSent;
        var startMs = c.Sim.NowMs;
        const int commands = 10;
        for (var i = 0; i < commands; i++) c.Commit(c.NewPut("k", $"{i}"), 3);
        var sent = c.Sim.Network.MessagesSent - sentBefore;
        // Rounds that fit in the elapsed time, plus one for the leader's tick phase at each end.
        var heartbeatRounds = (c.Sim.NowMs - startMs) / (c.ConfigFor(N(1)).HeartbeatTicks * c.Sim.Options.TickIntervalMs) + 2;
        // Per command, to each follower: an append and its answer, the heartbeat that carries its commit and its answer,
        // and at most one catch-up exchange (a heartbeat answer from a follower behind the log); plus a forward to the
        // leader and the periodic heartbeats.
        var bound = commands * 13 + heartbeatRounds * 4;
        Check(sent <= bound, c, $"agreement took {sent} messages, bound {bound}");
        Check(c.Live.All(n => n.Term == term), c, "term changed during agreement");
    });

    [Fact]
    public void PersistenceAcrossCrashesOfAllNodes() => SeedRunner.Run(100, seed =>
    {
        var c = new RaftSimCluster(seed, 3);
        ElectedLeader(c);
        var first = c.NewPut("a", "1");
        c.Commit(first, 3);
        foreach (var id in c.Ids) c.Crash(id);
        c.Sim.RunFor(100);
        foreach (var id in c.Ids) c.Restart(id);
        ElectedLeader(c);
        var second = c.NewPut("b", "2");
        c.Commit(second, 3);
        Check(c.AppliedCount(first) == 3, c, "a committed entry was lost in the crash");
        // Crash the leader, then a follower, restarting each.
        var leader = ElectedLeader(c);
        c.Restart(leader);
        c.Commit(c.NewPut("c", "3"), 3);
        c.Restart(c.Ids.First(id => id != c.Leader()));
        c.Commit(c.NewPut("d", "4"), 3);
        Check(c.Ids.All(id => c.Node(id)!.Kv.Get("a") == "1" && c.Node(id)!.Kv.Get("c") == "3"), c, "state lost after restarts");
        Check(c.Sim.FaultCounters.Crashes >= c.Ids.Length + 2, c, $"not every node crashed: {c.Sim.FaultCounters}");
        RaftScenarioChecks.CheckFaults(c, SimFaults.Restart);
    });

    /// <summary>Crashes also catch writes in flight, and half of them tear the write being made durable.</summary>
    [Fact]
    public void Figure8LeadersCrashingMidReplication() =>
        FaultTally.Run(80, SimFaults.Crash | SimFaults.Restart | SimFaults.LostToCrash | SimFaults.WriteLost | SimFaults.TornWrite,
            seed => Figure8Run(new SimulatorOptions { Seed = seed, TornWriteRate = 0.5 }, breakPersistence: false));

    /// <summary>The same on a synchronous disk (every write durable before the host goes on), the simulator's former model.</summary>
    [Fact]
    public void Figure8LeadersCrashingMidReplicationOnASynchronousDisk() =>
        FaultTally.Run(30, SimFaults.Crash | SimFaults.Restart | SimFaults.LostToCrash,
            seed => Figure8Run(new SimulatorOptions { Seed = seed, WriteLatencyMinMs = 0, WriteLatencyMaxMs = 0 }, breakPersistence: false));

    /// <summary>Leaders crash at random points of replication; returns the run's fault counters.</summary>
    private static SimFaultCounters Figure8Run(SimulatorOptions options, bool breakPersistence)
    {
        var c = new RaftSimCluster(options, 5) { BreakPersistBeforeSend = breakPersistence };
        var random = c.Sim.ForkRandom();
        ElectedLeader(c);
        c.RegisterClientsAhead(80); // the clients of the puts below, registered before leaders start crashing
        var up = c.Ids.Length;
        for (var iteration = 0; iteration < 40; iteration++)
        {
            if (c.Leader() is { } leader)
            {
                // Two at once, so that a leader's write often carries several entries (what a crash can tear).
                c.Sim.Inject(leader, new RaftClientCommand(c.NextRequestId(), c.NewPut("k", $"v{iteration}")));
                c.Sim.Inject(leader, new RaftClientCommand(c.NextRequestId(), c.NewPut("j", $"v{iteration}")));
            }
            c.Sim.RunFor(random.Chance(0.1) ? random.NextInt(0, 500) : random.NextInt(0, 15));
            if (c.Leader() is { } victim && random.Chance(0.5)) { c.Crash(victim); up--; }
            if (up < 3)
            {
                var down = c.Ids.Where(id => c.Node(id) is null).ToArray();
                c.Restart(down[random.NextInt(0, down.Length)]);
                up++;
            }
        }
        foreach (var id in c.Ids.Where(id => c.Node(id) is null)) c.Restart(id);
        c.Commit(c.NewPut("final", "1"), 5);
        return c.Sim.FaultCounters;
    }

    /// <summary>The checkers have teeth: a host that acknowledges before persisting is caught within a few seeds.</summary>
    [Fact]
    public void BrokenPersistOrderIsCaughtByInvariants()
    {
        var caught = 0;
        for (var seed = 1; seed <= 30 && caught == 0; seed++)
        {
            try { Figure8Run(new SimulatorOptions { Seed = seed }, breakPersistence: true); }
            catch (InvariantViolationException) { caught++; }
        }
        Assert.True(caught > 0, "no seed of 30 exposed a host that sends before persisting");
    }

    [Fact]
    public void AgreementOnUnreliableNetwork() => SeedRunner.Run(50, seed =>
    {
        var c = new RaftSimCluster(seed, 5);
        c.Sim.SetFaults(new FaultSpec { DropRate = 0.1, DuplicateRate = 0.05, DelayMinMs = 0, DelayMaxMs = 20, Reorder = true });
        var workload = new RaftKvWorkload(c, clients: 4, keys: 4, readsAndCas: false);
        workload.Start();
        c.Sim.RunFor(2_000);
        workload.Stop();
        c.Sim.ClearFaults();
        c.Commit(c.NewPut("final", "1"), 5);
        Check(workload.Completed >= 20, c, $"only {workload.Completed} operations completed");
        AssertAcknowledgedWritesAppliedExactlyOnce(c, workload);
        RaftScenarioChecks.CheckFaults(c, SimFaults.Drop | SimFaults.Duplicate);
    });

    [Fact]
    public void Figure8OnUnreliableNetworkWithLongReordering() => FaultTally.Run(50, SimFaults.Partition, seed =>
    {
        var c = new RaftSimCluster(seed, 5);
        var random = c.Sim.ForkRandom();
        c.Sim.SetFaults(new FaultSpec { DropRate = 0.1, DelayMinMs = 0, DelayMaxMs = 400, Reorder = true });
        var workload = new RaftKvWorkload(c, clients: 3, keys: 3, readsAndCas: false, timeoutMs: 800);
        workload.Start();
        for (var iteration = 0; iteration < 30; iteration++)
        {
            c.Sim.RunFor(random.Chance(0.1) ? random.NextInt(0, 1_000) : random.NextInt(0, 100));
            if (random.Chance(0.3))
            {
                var cut = c.Ids.Where(_ => random.Chance(0.4)).ToArray();
                if (cut.Length > 0 && cut.Length < c.Ids.Length) c.Sim.Partition(cut, c.Ids.Except(cut).ToArray());
            }
            else if (random.Chance(0.5)) c.Sim.Heal();
        }
        workload.Stop();
        c.Sim.ClearFaults();
        c.Commit(c.NewPut("final", "1"), 5, 20_000);
        AssertAcknowledgedWritesAppliedExactlyOnce(c, workload);
        RaftScenarioChecks.CheckFaults(c, SimFaults.Drop);
        return c.Sim.FaultCounters;
    });

    [Fact]
    public void ChurnWithClientsKeepsEveryAcknowledgedWrite() =>
        FaultTally.Run(40, SimFaults.Crash | SimFaults.Restart | SimFaults.Partition | SimFaults.WriteLost | SimFaults.TornWrite, seed =>
    {
        var c = new RaftSimCluster(new SimulatorOptions { Seed = seed, TornWriteRate = 0.5 }, 5);
        var random = c.Sim.ForkRandom();
        var workload = new RaftKvWorkload(c, clients: 5, keys: 5, readsAndCas: false);
        workload.Start();
        for (var iteration = 0; iteration < 25; iteration++)
        {
            c.Sim.RunFor(random.NextInt(20, 200));
            var target = c.Ids[random.NextInt(0, c.Ids.Length)];
            switch (random.NextInt(0, 4))
            {
                case 0: if (c.Ids.Count(id => c.Node(id) is not null) > 3) c.Crash(target); break;
                case 1: if (c.Node(target) is null) c.Restart(target); break;
                case 2: c.Sim.Isolate(target); break;
                default: c.Sim.Heal(); break;
            }
        }
        workload.Stop();
        c.Sim.Heal();
        foreach (var id in c.Ids.Where(id => c.Node(id) is null)) c.Restart(id);
        c.Commit(c.NewPut("final", "1"), 5);
        Check(workload.Completed >= 10, c, $"only {workload.Completed} operations completed");
        AssertAcknowledgedWritesAppliedExactlyOnce(c, workload);
        return c.Sim.FaultCounters;
    });

    /// <summary>Every write a client saw acknowledged took effect exactly once, and node 1's state machine has applied it.</summary>
    private static void AssertAcknowledgedWritesAppliedExactlyOnce(RaftSimCluster c, RaftKvWorkload workload)
    {
        RaftScenarioChecks.CheckWritesTookEffectOnce(c, workload);
        var applied = c.Node(c.Ids[0])!.Kv;
        foreach (var op in workload.History.Where(o => o.ReturnMs is not null && o.Kind != KvOpKind.Get))
            Check(applied.SessionSequence(op.ClientId) >= op.Sequence, c, $"{op} not applied on node 1");
    }
}
