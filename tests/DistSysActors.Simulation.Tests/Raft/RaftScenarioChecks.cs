using DistSysActors.Core;
using DistSysActors.Core.KeyValue;
using DistSysActors.Core.Raft;
using DistSysActors.Simulation.Checkers;
using DistSysActors.Simulation.Raft;

namespace DistSysActors.Simulation.Tests.Raft;

/// <summary>Assertions the snapshot and membership scenarios share; every failure names the seed and the cluster state.</summary>
internal static class RaftScenarioChecks
{
    public static void Check(bool condition, RaftSimCluster c, string what)
    {
        if (!condition) throw new Xunit.Sdk.XunitException($"seed={c.Seed} t={c.Sim.NowMs}ms: {what}; {c.Describe()}");
    }

    /// <summary>The faults the scenario injected really happened in this run.</summary>
    public static void CheckFaults(RaftSimCluster c, SimFaults expected) => FaultChecks.Require(c.Seed, c.Sim.FaultCounters, expected);

    public static NodeId ElectedLeader(RaftSimCluster c, long maxMs = 5_000, IEnumerable<NodeId>? among = null)
    {
        var leader = c.RunUntilLeader(maxMs, among);
        Check(leader is not null, c, "no leader elected");
        return leader!.Value;
    }

    /// <summary>Every node's state machine holds the same data, sessions included (compared as canonical snapshots).</summary>
    public static void CheckReplicasEqual(RaftSimCluster c, IReadOnlyList<NodeId> nodes)
    {
        var reference = c.Node(nodes[0])!.Kv;
        var bytes = reference.Snapshot();
        foreach (var id in nodes)
        {
            var kv = c.Node(id)!.Kv;
            Check(kv.Snapshot().AsSpan().SequenceEqual(bytes), c, $"node {id} state differs from node {nodes[0]} (applied {kv.AppliedIndex} vs {reference.AppliedIndex})");
        }
    }

    /// <summary>
    /// Stops the workload, clears faults, restarts the crashed among <paramref name="nodes"/>, commits a last write on all
    /// of them and waits until they applied the same index; then their states must be equal.
    /// </summary>
    public static void Settle(RaftSimCluster c, RaftKvWorkload workload, IReadOnlyList<NodeId> nodes)
    {
        workload.Stop();
        c.Sim.ClearFaults();
        foreach (var id in nodes.Where(id => c.Node(id) is null)) c.Restart(id);
        c.Commit(c.NewPut("final", $"{c.Seed}"), nodes.Count, 20_000);
        var leader = ElectedLeader(c, 5_000, nodes);
        Check(c.Sim.RunUntil(() => nodes.All(id => c.Node(id)!.Kv.AppliedIndex == c.Raft(leader)!.CommitIndex), 5_000), c, "replicas did not settle");
        CheckReplicasEqual(c, nodes);
    }

    /// <summary>The clients' history is linearizable, and every write they saw acknowledged took effect exactly once.</summary>
    public static void CheckHistory(RaftSimCluster c, RaftKvWorkload workload, int completedMin)
    {
        Check(workload.Completed >= completedMin, c, $"only {workload.Completed} operations completed");
        var result = LinearizabilityChecker.Check(workload.History.Select(RaftKvLinearizabilityTests.ToChecked));
        Check(result.Ok, c, $"history {result.Outcome} on key {result.Key}: {result.Explanation}");
        CheckWritesTookEffectOnce(c, workload);
    }

    /// <summary>
    /// Each write a client saw acknowledged took effect exactly once, and no write (answered or not) more than once. A
    /// retried command may sit in the committed log several times; the client session must make all but one a no-op.
    /// </summary>
    public static void CheckWritesTookEffectOnce(RaftSimCluster c, RaftKvWorkload workload)
    {
        var effects = EffectsPerWrite(c);
        foreach (var op in workload.History.Where(o => o.Kind != KvOpKind.Get))
        {
            var count = effects.GetValueOrDefault((op.ClientId, op.Sequence));
            if (op.ReturnMs is not null) Check(count == 1, c, $"acknowledged write {op} took effect {count} times, not once");
            else Check(count <= 1, c, $"write {op} with unknown outcome took effect {count} times");
        }
    }

    /// <summary>
    /// How many times each (client, sequence) was executed by the state machine, found by replaying the committed log
    /// through a fresh one: what every replica's state machine did (state-machine safety makes them apply the same log).
    /// </summary>
    public static Dictionary<(long ClientId, long Sequence), int> EffectsPerWrite(RaftSimCluster c)
    {
        var replica = new KeyValueStore();
        var effects = new Dictionary<(long ClientId, long Sequence), int>();
        foreach (var entry in c.Checker.Committed)
        {
            // Duplicates answer from the session and expired sessions are refused: neither executes the command.
            if (replica.Apply(entry) is { Duplicate: false } applied && applied.Result.Status is not (KvStatus.SessionExpired or KvStatus.Invalid))
                effects[(applied.ClientId, applied.Sequence)] = effects.GetValueOrDefault((applied.ClientId, applied.Sequence)) + 1;
        }
        return effects;
    }
}
