using DistSysActors.Core.Network;
using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;
using DistSysActors.Simulation.Checkers;
using DistSysActors.Simulation.Raft;

namespace DistSysActors.Simulation.Tests.Raft;

/// <summary>Client histories of the replicated key-value store, under faults, checked for linearizability.</summary>
public sealed class RaftKvLinearizabilityTests
{
    /// <summary>The checker's view of a recorded operation (an unanswered one has an unknown outcome).</summary>
    internal static KvOperation ToChecked(KvHistoryOp op)
    {
        var input = op.Kind switch
        {
            KvOpKind.Put => KvInput.Put(op.Key, op.Value!),
            KvOpKind.Get => KvInput.Get(op.Key),
            KvOpKind.Delete => KvInput.Delete(op.Key),
            _ => KvInput.Cas(op.Key, op.Expected, op.Value!),
        };
        var client = checked((int)op.ClientId);
        if (op.ReturnMs is not { } returnMs) return KvOperation.Unknown(client, input, op.CallMs);
        var output = op.Kind switch
        {
            KvOpKind.Get => KvOutput.Read(op.Output),
            KvOpKind.Cas => op.Status == KvStatus.Ok ? KvOutput.SwappedOk : KvOutput.NotSwapped(op.Output),
            _ => KvOutput.Ack,
        };
        return new KvOperation(client, input, op.CallMs, returnMs, output);
    }

    /// <summary>
    /// One seed of clients under drops, duplicates, isolations (and crashes, which tear half the writes they catch in
    /// flight); returns the run's fault counters.
    /// </summary>
    private static SimFaultCounters RunAndCheck(long seed, ReadMode readMode, bool crashes, Func<RaftConfig, RaftConfig>? configure = null)
    {
        var c = new RaftSimCluster(new SimulatorOptions { Seed = seed, TornWriteRate = crashes ? 0.5 : 0 }, 5, configure);
        var random = c.Sim.ForkRandom();
        c.Sim.SetFaults(new FaultSpec { DropRate = 0.05, DuplicateRate = 0.02, DelayMinMs = 0, DelayMaxMs = 10, Reorder = true });
        var workload = new RaftKvWorkload(c, clients: 5, keys: 3, readsAndCas: true, readMode: readMode);
        workload.Start();
        for (var iteration = 0; iteration < 12; iteration++)
        {
            c.Sim.RunFor(random.NextInt(50, 250));
            var target = c.Ids[random.NextInt(0, c.Ids.Length)];
            switch (random.NextInt(0, crashes ? 4 : 2))
            {
                case 0: c.Sim.Isolate(target); break;
                case 1: c.Sim.Heal(); break;
                case 2: if (c.Ids.Count(id => c.Node(id) is not null) > 3) c.Crash(target); break;
                default: if (c.Node(target) is null) c.Restart(target); break;
            }
        }
        // Heal and restart everything so the run ends with a stretch of progress (and the check is never vacuous).
        c.Sim.Heal();
        foreach (var id in c.Ids.Where(id => c.Node(id) is null)) c.Restart(id);
        c.Sim.RunFor(500);
        workload.Stop();
        var history = workload.History.Select(ToChecked).ToList();
        var result = LinearizabilityChecker.Check(history);
        if (result.Outcome == CheckOutcome.Unknown)
            throw new Xunit.Sdk.XunitException($"seed={seed}: the checker ran out of budget, no verdict: {result.Explanation}");
        if (!result.Ok)
            throw new Xunit.Sdk.XunitException($"seed={seed}: not linearizable on key {result.Key}: {result.Explanation}");
        if (workload.Completed < 20) throw new Xunit.Sdk.XunitException($"seed={seed}: only {workload.Completed} operations completed");
        FaultChecks.Require(seed, c.Sim.FaultCounters, SimFaults.Drop | SimFaults.Duplicate);
        return c.Sim.FaultCounters;
    }

    [Fact]
    public void ReadIndexHistoriesAreLinearizableUnderPartitions() =>
        FaultTally.Run(40, SimFaults.Partition, seed => RunAndCheck(seed, ReadMode.ReadIndex, crashes: false));

    [Fact]
    public void LeaseReadHistoriesAreLinearizableUnderPartitions() =>
        FaultTally.Run(40, SimFaults.Partition, seed => RunAndCheck(seed, ReadMode.Lease, crashes: false));

    [Fact]
    public void HistoriesAreLinearizableUnderCrashesAndPartitions() =>
        FaultTally.Run(40, SimFaults.Partition | SimFaults.Crash | SimFaults.Restart | SimFaults.WriteLost | SimFaults.TornWrite,
            seed => RunAndCheck(seed, ReadMode.ReadIndex, crashes: true));

    /// <summary>
    /// Followers that apply committed entries late (apply-delay-ms, a delayed replica) stay linearizable: a ReadIndex read
    /// waits until its replica has applied the read index, and a new leader applies at once.
    /// </summary>
    [Fact]
    public void ReadIndexHistoriesAreLinearizableWithDelayedFollowersUnderPartitions() =>
        FaultTally.Run(20, SimFaults.Partition, seed => RunAndCheck(seed, ReadMode.ReadIndex, crashes: false, c => c with { ApplyDelayMs = 60 }));

    /// <summary>The check has teeth here too: serving reads from local state without ReadIndex (stale reads) is caught.</summary>
    [Fact]
    public void StaleReadsAreNotLinearizable()
    {
        var violations = 0;
        for (var seed = 1; seed <= 20 && violations == 0; seed++)
        {
            var c = new RaftSimCluster(seed, 5);
            var workload = new RaftKvWorkload(c, clients: 5, keys: 2, readsAndCas: true, staleReads: true);
            workload.Start();
            var random = c.Sim.ForkRandom();
            for (var iteration = 0; iteration < 10; iteration++)
            {
                c.Sim.RunFor(random.NextInt(50, 250));
                c.Sim.Isolate(c.Ids[random.NextInt(0, c.Ids.Length)]);
            }
            workload.Stop();
            var result = LinearizabilityChecker.Check(workload.History.Select(ToChecked));
            // Only a proof counts as caught: a search that ran out of budget proved nothing either way.
            if (result.Outcome == CheckOutcome.Unknown)
                throw new Xunit.Sdk.XunitException($"seed={seed}: the checker ran out of budget, no verdict: {result.Explanation}");
            if (result.Outcome == CheckOutcome.Illegal)
            {
                Assert.True(result.Key is not null, $"seed={seed}: a not-linearizable verdict must name its key: {result}");
                violations++;
            }
        }
        Assert.True(violations > 0, "stale reads from isolated nodes should produce a history proven not linearizable within 20 seeds");
    }
}
