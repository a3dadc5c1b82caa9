using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Core.Raft;
using DistSysActors.Simulation.Raft;
using static DistSysActors.Simulation.Tests.Raft.RaftScenarioChecks;

namespace DistSysActors.Simulation.Tests.Raft;

/// <summary>
/// Raft on an asynchronous disk: a Ready's write completes after a seeded latency while messages, ticks and requests
/// keep stepping the core; a crash loses what is not durable yet (or tears it), also between an installed snapshot's
/// save and the entries written after it. Safety is checked after every event.
/// </summary>
public sealed class RaftAsyncStorageTests
{
    [Fact]
    public void InputsKeepSteppingTheCoreWhileAWriteIsInFlight() => SeedRunner.Run(20, seed =>
    {
        var c = new RaftSimCluster(new SimulatorOptions { Seed = seed, WriteLatencyMinMs = 2, WriteLatencyMaxMs = 8 }, 3);
        long deliveredWhileWriting = 0, delivered = 0;
        c.Sim.TraceListener = e =>
        {
            if (e.Kind != SimTraceKind.Delivered || e.Detail is not RaftMessage) return;
            delivered++;
            if (c.Node(e.Node)?.Persisting == true) deliveredWhileWriting++;
        };
        ElectedLeader(c);
        var workload = new RaftKvWorkload(c, clients: 4, keys: 4, readsAndCas: true);
        workload.Start();
        c.Sim.RunFor(1_000);
        workload.Stop();
        // Messages do not wait for the disk: a good share of them reach a node whose write is in flight.
        Check(deliveredWhileWriting * 10 >= delivered, c, $"{deliveredWhileWriting} of {delivered} messages arrived during a write");
        CheckHistory(c, workload, completedMin: 20);
    });

    [Fact]
    public void AFollowerCrashedMidWriteRestartsWithoutTheEntriesItNeverAcknowledged() => SeedRunner.Run(20, seed =>
    {
        var c = new RaftSimCluster(new SimulatorOptions { Seed = seed, WriteLatencyMinMs = 5, WriteLatencyMaxMs = 5 }, 3);
        var leader = ElectedLeader(c);
        c.Commit(c.NewPut("a", "1"), 3);
        var follower = c.Ids.First(id => id != leader);
        var put = c.NewPut("b", "2");
        c.Sim.Inject(leader, new RaftClientCommand(c.NextRequestId(), put));
        // The follower holds the new entry in memory while its write is on the way to the disk.
        Check(c.Sim.RunUntil(() => c.Node(follower)!.Persisting && c.Raft(follower)!.LastLogIndex > c.PersistedEntryCount(follower), 1_000), c,
            "the follower never held an entry it had not written");
        var inMemory = c.Raft(follower)!.LastLogIndex;
        c.Crash(follower);
        Check(c.PersistedEntryCount(follower) < inMemory, c, "the crash did not lose the write in flight");
        c.Restart(follower);
        c.Commit(put, 3);
        c.Commit(c.NewPut("c", "3"), 3);
        CheckReplicasEqual(c, c.Ids);
        CheckFaults(c, SimFaults.Crash | SimFaults.WriteLost);
    });

    [Fact]
    public void ACrashBetweenAnInstalledSnapshotAndTheWriteAfterItRecoversFromTheSnapshot() => SeedRunner.Run(20, seed =>
    {
        var c = new RaftSimCluster(new SimulatorOptions { Seed = seed, WriteLatencyMinMs = 3, WriteLatencyMaxMs = 6 }, 3,
            config => config with { SnapshotChunkBytes = 64 }) { SnapshotEntries = 16 };
        var leader = ElectedLeader(c);
        var lagging = c.Ids.First(id => id != leader);
        var workload = new RaftKvWorkload(c, clients: 3, keys: 6, readsAndCas: false);
        workload.Start();
        c.Sim.RunFor(100);
        c.Crash(lagging);
        var others = c.Ids.Where(id => id != lagging).ToArray();
        var lagged = c.PersistedSnapshot(lagging)?.Meta.Index ?? 0;
        Check(c.Sim.RunUntil(() => others.All(id => c.Raft(id) is { } r && r.FirstLogIndex > lagged + c.PersistedEntryCount(lagging) + 16), 20_000), c,
            "the others did not compact past the lagging node");
        c.Restart(lagging);
        // The snapshot save is durable, the Ready's next write (hard state, entries) not yet: crash right there.
        Check(c.Sim.RunUntil(() => c.PersistedSnapshot(lagging)?.Meta.Index > lagged && c.Node(lagging)!.Persisting, 10_000), c,
            "the lagging node never stood between its snapshot save and the write after it");
        var saved = c.PersistedSnapshot(lagging)!.Meta.Index;
        c.Crash(lagging);
        Check(c.PersistedEntryCount(lagging) == 0 && c.PersistedSnapshot(lagging)!.Meta.Index == saved, c, "the disk does not hold just the snapshot");
        c.Restart(lagging);
        c.Sim.RunUntil(() => c.Raft(lagging) is not null, 10);
        Check(c.Node(lagging)!.Kv.AppliedIndex >= saved, c, "the restarted node did not restore the snapshot");
        Settle(c, workload, c.Ids);
        CheckHistory(c, workload, completedMin: 10);
        CheckFaults(c, SimFaults.Crash | SimFaults.Restart | SimFaults.WriteLost);
    });
}
