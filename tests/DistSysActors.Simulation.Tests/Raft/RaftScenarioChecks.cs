using DistSysActors.Core;
using DistSysActors.Core.KeyValue;
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

    /// <summary>The clients' history is linearizable, and every write they saw acknowledged is in the committed log.</summary>
    public static void CheckHistory(RaftSimCluster c, RaftKvWorkload workload, int completedMin)
    {
        Check(workload.Completed >= completedMin, c, $"only {workload.Completed} operations completed");
        var result = LinearizabilityChecker.Check(workload.History.Select(RaftKvLinearizabilityTests.ToChecked));
        Check(result.Ok, c, $"history {result.Outcome} on key {result.Key}: {result.Explanation}");
        var committed = c.CommittedCommands().Select(x => (x.ClientId, x.Sequence)).ToHashSet();
        foreach (var op in workload.History.Where(o => o.ReturnMs is not null && o.Kind != KvOpKind.Get))
            Check(committed.Contains((op.ClientId, op.Sequence)), c, $"acknowledged {op} missing from the committed log");
    }
}
