using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Core.KeyValue;
using DistSysActors.Simulation.Raft;

namespace DistSysActors.Simulation.Tests.Raft;

/// <summary>Idempotency keys on the simulated Raft cluster: a retry after a leader crash is answered, never re-executed.</summary>
public sealed class IdempotencySimulationTests
{
    private static void Check(bool condition, RaftSimCluster c, string what)
    {
        if (!condition) throw new Xunit.Sdk.XunitException($"seed={c.Seed} t={c.Sim.NowMs}ms: {what}; {c.Describe()}");
    }

    [Fact]
    public void Leader_crash_after_commit_before_the_answer_the_retry_elsewhere_returns_the_stored_answer() =>
        FaultTally.Run(60, SimFaults.Drop | SimFaults.Duplicate, seed =>
    {
        var c = new RaftSimCluster(seed, 3);
        var leader = c.RunUntilLeader(5_000);
        Check(leader is not null, c, "no leader elected");
        c.Commit(c.NewPut("k", "v0"), 3);
        c.RegisterClientsAhead(2); // the first attempt's client and the retry's, registered while the leader lives

        // The first attempt: a cas that only succeeds once. Its answer is lost with the leader.
        var idem = new KvIdempotency("retry-key", "cas k v0->v1");
        var first = new KvCas(c.NewClient(), 1, "k", "v0", "v1") { Idempotency = idem };
        c.Sim.Inject(leader!.Value, new RaftClientCommand(c.NextRequestId(), first));
        Check(c.Sim.RunUntil(() => c.AppliedCount(first) >= 2, 5_000), c, "the first cas committed on a majority");
        c.Crash(leader.Value);
        if (new DeterministicRandom(seed).Chance(0.5)) c.Sim.SetFaults(new FaultSpec { DropRate = 0.1, DuplicateRate = 0.1 });

        // The retry comes from a new session (another node's client), carrying the same key and request.
        var retry = new KvCas(c.NewClient(), 1, "k", "v0", "v1") { Idempotency = idem };
        var replies = new List<RaftClientOk>();
        c.ReplyListener = r => { if (r is RaftClientOk ok && ok.Result is not null) replies.Add(ok); };
        var others = c.Ids.Where(id => id != leader.Value).ToArray();
        var deadline = c.Sim.NowMs + 20_000;
        while (replies.Count == 0 && c.Sim.NowMs < deadline)
        {
            var target = c.Leader(others) ?? others[(int)(c.Sim.NowMs / 100 % others.Length)];
            c.Sim.Inject(target, new RaftClientCommand(c.NextRequestId(), retry));
            c.Sim.RunUntil(() => replies.Count > 0, 500);
        }
        Check(replies.Count > 0, c, "the retry was answered");
        // Executed a second time, the cas would fail (the value is v1 by now): the stored success comes back.
        Check(replies[0].Result == KvResult.Ok, c, $"the retry got the stored answer, not {replies[0].Result}");
        c.Sim.ClearFaults();
        c.Restart(leader.Value);
        c.Sim.RunUntil(() => c.Ids.All(id => c.Node(id)?.Kv.Get("k") == "v1"), 10_000);
        foreach (var id in c.Ids) Check(c.Node(id)?.Kv.Get("k") == "v1", c, $"node {id} holds v1");
        FaultChecks.Require(seed, c.Sim.FaultCounters, SimFaults.Crash | SimFaults.Restart);
        return c.Sim.FaultCounters;
    });
}
