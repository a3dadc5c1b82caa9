using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Core.Raft;
using DistSysActors.Simulation.Raft;

namespace DistSysActors.Simulation.Tests.Raft;

/// <summary>
/// Snapshots and log compaction on the simulator (Raft paper section 7): hosts snapshot their state machine once the
/// log passes <see cref="RaftSimCluster.SnapshotEntries"/>, followers behind the compacted log catch up through
/// InstallSnapshot, and restarts rebuild from snapshot + log tail. Safety is checked after every event.
/// </summary>
public sealed class RaftSnapshotSimulationTests
{
    private const int SnapshotEntries = 24;

    private static void Check(bool condition, RaftSimCluster c, string what)
    {
        if (!condition) throw new Xunit.Sdk.XunitException($"seed={c.Seed} t={c.Sim.NowMs}ms: {what}; {c.Describe()}");
    }

    /// <summary>Small chunks so a snapshot of a few keys already takes several InstallSnapshot messages.</summary>
    private static RaftSimCluster Cluster(long seed, int size, int snapshotEntries = SnapshotEntries, int? voters = null) =>
        new(new SimulatorOptions { Seed = seed }, size, config => config with { SnapshotChunkBytes = 128 }, voters) { SnapshotEntries = snapshotEntries };

    private static NodeId ElectedLeader(RaftSimCluster c, long maxMs = 5_000, IEnumerable<NodeId>? among = null)
    {
        var leader = c.RunUntilLeader(maxMs, among);
        Check(leader is not null, c, "no leader elected");
        return leader!.Value;
    }

    /// <summary>Every node's state machine holds the same data, sessions included (compared as canonical snapshots).</summary>
    private static void CheckReplicasEqual(RaftSimCluster c, IEnumerable<NodeId> nodes)
    {
        var states = nodes.Select(id => (id, c.Node(id)!.Kv)).ToList();
        var reference = states[0].Kv.Snapshot();
        foreach (var (id, kv) in states)
            Check(kv.Snapshot().AsSpan().SequenceEqual(reference), c, $"node {id} state differs from node {states[0].id} (applied {kv.AppliedIndex} vs {states[0].Kv.AppliedIndex})");
    }

    /// <summary>Stops the workload, commits one last write on every node, and waits until all applied the same index.</summary>
    private static void Settle(RaftSimCluster c, RaftKvWorkload workload, IReadOnlyList<NodeId> nodes)
    {
        workload.Stop();
        c.Sim.ClearFaults();
        foreach (var id in nodes.Where(id => c.Node(id) is null)) c.Restart(id);
        c.Commit(c.NewPut("final", "1"), nodes.Count, 20_000);
        var leader = c.Leader()!.Value;
        Check(c.Sim.RunUntil(() => nodes.All(id => c.Node(id)!.Kv.AppliedIndex == c.Raft(leader)!.CommitIndex), 5_000), c, "replicas did not settle");
        CheckReplicasEqual(c, nodes);
    }

    [Fact]
    public void SnapshotsAndCrashesOfAllNodesNeverDecreaseTheAppliedIndex() => SeedRunner.Run(30, seed =>
    {
        var c = Cluster(seed, 3);
        var random = c.Sim.ForkRandom();
        ElectedLeader(c);
        var workload = new RaftKvWorkload(c, clients: 4, keys: 6, readsAndCas: true);
        workload.Start();
        long clusterApplied = 0;
        for (var round = 0; round < 4; round++)
        {
            c.Sim.RunFor(random.NextInt(300, 700));
            if (random.Chance(0.5)) c.Restart(c.Ids[random.NextInt(0, c.Ids.Length)]); // one node loses its memory mid-run
            c.Sim.RunFor(random.NextInt(0, 30)); // crash at an arbitrary point, also mid-snapshot-transfer
            var before = c.Ids.ToDictionary(id => id, id => c.Node(id)!.Kv.AppliedIndex);
            var max = before.Values.Max();
            Check(max >= clusterApplied, c, $"cluster applied index went back from {clusterApplied} to {max}");
            clusterApplied = max;
            // Cut every link so no leader can form: what the nodes apply after the restart comes from their disks alone.
            c.Sim.Partition([1], [2], [3]);
            foreach (var id in c.Ids) c.Crash(id);
            c.Sim.RunFor(random.NextInt(0, 100));
            foreach (var id in c.Ids) c.Restart(id);
            c.Sim.RunFor(30);
            foreach (var id in c.Ids)
                Check(c.Node(id)!.Kv.AppliedIndex >= before[id], c, $"node {id} applied {c.Node(id)!.Kv.AppliedIndex} after the restart, {before[id]} before");
            c.Sim.Heal();
        }
        Check(c.Ids.Sum(c.SnapshotsTaken) > 0 && c.Ids.All(id => c.PersistedSnapshot(id) is not null), c, "no snapshots were taken");
        Settle(c, workload, c.Ids);
        Check(c.Ids.Max(id => c.Node(id)!.Kv.AppliedIndex) >= clusterApplied, c, "cluster applied index went back");
    });

    private static void LaggingFollowerRun(long seed, bool unreliable, bool crash)
    {
        var c = Cluster(seed, 3);
        var random = c.Sim.ForkRandom();
        var leader = ElectedLeader(c);
        var lagging = c.Ids.First(id => id != leader);
        var workload = new RaftKvWorkload(c, clients: 3, keys: 8, readsAndCas: false, timeoutMs: unreliable ? 600 : 300);
        workload.Start();
        c.Sim.RunFor(random.NextInt(0, 300));
        if (crash) c.Crash(lagging);
        else c.Sim.Isolate(lagging);
        // What the lagging node holds (messages in flight when it was cut off may still reach it).
        long LaggingLast() => c.Raft(lagging)?.LastLogIndex
            ?? (c.PersistedSnapshot(lagging)?.Meta.Index ?? 0) + c.PersistedEntryCount(lagging);
        // The others run on until their snapshots cover many entries the lagging node never received.
        var others = c.Ids.Where(id => id != lagging).ToArray();
        Check(c.Sim.RunUntil(() => others.All(id => c.Raft(id) is { } r && r.FirstLogIndex > LaggingLast() + SnapshotEntries), 20_000), c,
            $"the others did not compact past {LaggingLast()}");
        if (unreliable) c.Sim.SetFaults(new FaultSpec { DropRate = 0.1, DuplicateRate = 0.05, DelayMinMs = 0, DelayMaxMs = 20, Reorder = true });
        var installsBefore = c.SnapshotsInstalled(lagging);
        if (crash) c.Restart(lagging);
        else c.Sim.Heal();
        Check(c.Sim.RunUntil(() => c.SnapshotsInstalled(lagging) > installsBefore, 10_000), c, "the lagging node installed no snapshot");
        Check(c.Sim.Network.SentOf<InstallSnapshot>() > 1, c, "a multi-chunk snapshot should take several InstallSnapshot messages");
        c.Sim.RunFor(random.NextInt(0, 500));
        Settle(c, workload, c.Ids);
    }

    [Fact]
    public void LaggingFollowerCatchesUpThroughInstallSnapshotOnReliableNetwork() => SeedRunner.Run(30, seed => LaggingFollowerRun(seed, unreliable: false, crash: seed % 2 == 0));

    [Fact]
    public void LaggingFollowerCatchesUpThroughInstallSnapshotOnUnreliableNetwork() => SeedRunner.Run(30, seed => LaggingFollowerRun(seed, unreliable: true, crash: seed % 2 == 1));
}
