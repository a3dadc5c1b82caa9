using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Core.Transactions;
using DistSysActors.Core.Transactions.Replicated;
using DistSysActors.Simulation.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Simulation.Tests.Transactions;

/// <summary>
/// Replicated mode on the simulator: the coordinator's log and each shard's log are Raft groups over every node, so
/// killing the node that leads a group mid-2PC blocks nobody: another replica takes over from the committed log and the
/// transaction finishes, consistently on every shard, while the killed node stays down.
/// </summary>
public sealed class ReplicatedTxnSimulationTests
{
    private static readonly NodeId Coordinator = TxnGroups.Coordinator;

    private sealed class Bank
    {
        public Bank(long seed, int nodes = 3, bool checkQuorum = true)
        {
            C = new ReplicatedTxnSimCluster(new SimulatorOptions { Seed = seed, TickIntervalMs = 10 }, nodes, 3, BankSimulationTests.SimConfig, checkQuorum: checkQuorum);
            A = C.KeyOn(1, "a");
            B = C.KeyOn(2, "b");
            Assert.True(C.Sim.RunUntil(C.Settled, 10_000), $"seed={seed}: no leaders");
            var fund = C.Begin(C.Ids[0], TxnProtocol.TwoPhase, new PutOp(A, "100"), new PutOp(B, "0"))!.Value;
            Assert.True(C.Sim.RunUntil(() => C.OutcomeOf(fund) is not null && C.Settled(), 10_000), $"seed={seed}: funding did not settle");
            Assert.Equal(TxnState.Committed, C.OutcomeOf(fund)!.Outcome);
        }

        public ReplicatedTxnSimCluster C { get; }
        public string A { get; }
        public string B { get; }

        /// <summary>A transfer of 30 from A to B, taken at a node that leads no group touched (when there is one), so its client outlives the kills.</summary>
        public long Transfer(NodeId at) => C.Begin(at, TxnProtocol.TwoPhase, new AddOp(A, -30, 0), new AddOp(B, 30, null))!.Value;

        /// <summary>
        /// Commits a transaction taken at <paramref name="at"/>, taking it again while it is refused or unanswered (a
        /// node may hand it to a leader it cannot reach); returns its id.
        /// </summary>
        public TxnId CommitAt(long seed, NodeId at, params TxnOp[] ops)
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var request = C.Begin(at, TxnProtocol.TwoPhase, ops)!.Value;
                C.Sim.RunUntil(() => C.OutcomeOf(request) is not null || C.Answers.GetValueOrDefault(request)?.OfType<ReplTxn.Refused>().Any() == true, 2_000);
                if (C.OutcomeOf(request) is { Outcome: TxnState.Committed }) return C.IdOf(request)!.Value;
            }
            Assert.Fail($"seed={seed}: no transaction taken at node {at} committed");
            return default;
        }

        /// <summary>Runs the action when the coordinating group's leader has received the YES votes of both shards.</summary>
        public void AfterAllYesVotes(Action action)
        {
            var voters = new HashSet<NodeId>();
            C.OnFirstDelivery((_, group, m) => group == Coordinator && m is Vote { Yes: true } v && voters.Add(v.From) && voters.Count == 2, action);
        }

        /// <summary>The transaction finished consistently: decided in the coordinating group's log, the same outcome on both shards, locks released, money where the outcome says.</summary>
        public TxnState AssertFinishedConsistently(long seed, TxnId id)
        {
            var decision = C.CommittedRecords(Coordinator).OfType<DecisionRecord>().LastOrDefault(d => d.Id == id && d.State is TxnState.Committed or TxnState.Aborted);
            Assert.True(decision is not null, $"seed={seed}: {id} has no decision in the coordinating group's log");
            var committed = decision!.State == TxnState.Committed;
            foreach (var shard in new[] { TxnGroups.Shard(1), TxnGroups.Shard(2) })
            {
                var outcome = C.CommittedRecords(shard).OfType<OutcomeRecord>().LastOrDefault(o => o.Id == id);
                Assert.True(outcome is not null && outcome.Committed == committed, $"seed={seed}: {TxnGroups.Name(shard)} has {outcome?.Committed.ToString() ?? "no outcome"}, the decision is {decision.State} ({decision.Reason}); its log: {string.Join(", ", C.CommittedRecords(shard))}");
                var acting = C.Core(C.ActingFor(shard)!.Value)!.Participant(shard);
                Assert.Empty(acting.Locks);
                Assert.Empty(acting.InDoubtTransactions(C.Sim.NowMs));
            }
            Assert.Equal((committed ? "70" : "100", committed ? "30" : "0"), (C.Value(A), C.Value(B)));
            return decision.State;
        }
    }

    [Fact]
    public void Killing_the_coordinating_groups_leader_after_all_YES_votes_blocks_nobody_another_replica_finishes_it() => SeedRunner.Run(6, seed =>
    {
        var b = new Bank(seed);
        var leader = b.C.ActingFor(Coordinator)!.Value;
        var client = b.C.Ids.First(id => id != leader);
        var request = b.Transfer(client);
        b.AfterAllYesVotes(() => b.C.Sim.Crash(leader));
        Assert.True(b.C.Sim.RunUntil(() => b.C.IdOf(request) is not null && !b.C.Sim.IsUp(leader) && b.C.Settled(), 20_000),
            $"seed={seed}: not settled without node {leader}: acting {string.Join(", ", b.C.Groups.All.Select(g => $"{TxnGroups.Name(g)}={b.C.ActingFor(g)}"))}");
        Assert.False(b.C.Sim.IsUp(leader));
        Assert.NotEqual(leader, b.C.ActingFor(Coordinator));
        b.AssertFinishedConsistently(seed, b.C.IdOf(request)!.Value);
    });

    [Fact]
    public void Killing_a_shards_leader_after_its_YES_vote_blocks_nobody_and_the_transaction_commits() => SeedRunner.Run(6, seed =>
    {
        var b = new Bank(seed);
        var shard = TxnGroups.Shard(1);
        var shardLeader = b.C.ActingFor(shard)!.Value;
        var client = b.C.Ids.First(id => id != shardLeader);
        var request = b.Transfer(client);
        var coordinatorLeader = b.C.ActingFor(Coordinator)!.Value;
        b.C.OnFirstDelivery((_, group, m) => group == Coordinator && m is Vote { Yes: true } v && v.From == shard, () => b.C.Sim.Crash(shardLeader));
        Assert.True(b.C.Sim.RunUntil(() => b.C.IdOf(request) is not null && !b.C.Sim.IsUp(shardLeader) && b.C.Settled(), 20_000), $"seed={seed}: not settled without node {shardLeader}");
        var state = b.AssertFinishedConsistently(seed, b.C.IdOf(request)!.Value);
        // The vote was in and PREPARED committed in the shard's log: unless the coordinator's leader died too, the transfer commits and the client hears it.
        if (coordinatorLeader != shardLeader)
        {
            Assert.True(b.C.Sim.RunUntil(() => b.C.OutcomeOf(request) is not null, 5_000), $"seed={seed}: the client heard no outcome");
            Assert.Equal((TxnState.Committed, TxnState.Committed), (state, b.C.OutcomeOf(request)!.Outcome));
        }
    });

    [Fact]
    public void On_five_nodes_killing_the_coordinating_groups_leader_and_a_shards_leader_mid_2PC_blocks_nobody() => SeedRunner.Run(4, seed =>
    {
        var b = new Bank(seed, nodes: 5);
        var leader = b.C.ActingFor(Coordinator)!.Value;
        var shardLeader = b.C.ActingFor(TxnGroups.Shard(2))!.Value;
        var client = b.C.Ids.First(id => id != leader && id != shardLeader);
        var request = b.Transfer(client);
        b.AfterAllYesVotes(() =>
        {
            b.C.Sim.Crash(leader);
            if (b.C.Sim.IsUp(shardLeader)) b.C.Sim.Crash(shardLeader);
        });
        Assert.True(b.C.Sim.RunUntil(() => b.C.IdOf(request) is not null && !b.C.Sim.IsUp(leader) && b.C.Settled(), 20_000), $"seed={seed}: not settled");
        Assert.False(b.C.Sim.IsUp(leader) || b.C.Sim.IsUp(shardLeader));
        b.AssertFinishedConsistently(seed, b.C.IdOf(request)!.Value);
    });

    [Fact]
    public void A_coordinating_leader_cut_off_from_its_group_sends_no_PREPARE_its_BEGIN_is_never_committed() => SeedRunner.Run(4, seed =>
    {
        var b = new Bank(seed);
        var leader = b.C.ActingFor(Coordinator)!.Value;
        var prepares = 0;
        b.C.Sim.TraceListener = e =>
        {
            if (e.Kind == SimTraceKind.Sent && e.Detail is ReplTxn.TxnEnvelope { Message: Prepare }) prepares++;
        };
        b.C.Sim.Partition([leader], [.. b.C.Ids.Where(id => id != leader)]);
        var request = b.Transfer(leader);
        b.C.Sim.RunFor(2_000);
        // Replicate before send: BEGIN needs a majority of the coordinating group, so nothing left the cut-off leader.
        Assert.Equal(0, prepares);
        Assert.Null(b.C.IdOf(request));
        b.C.Sim.Heal();
        Assert.True(b.C.Sim.RunUntil(b.C.Settled, 10_000), $"seed={seed}: not settled after the heal");
        Assert.Equal(0, prepares);
        Assert.DoesNotContain(b.C.CommittedRecords(TxnGroups.Shard(1)), r => r is PreparedRecord p && p.Id.Seq > 1);
        Assert.Equal(("100", "0"), (b.C.Value(b.A), b.C.Value(b.B)));
    });

    [Fact]
    public void A_shard_leader_cut_off_from_its_group_serves_no_read_once_the_majority_has_moved_on() => SeedRunner.Run(4, seed =>
    {
        // Without CheckQuorum the cut-off leader never steps down by itself: it still acts for the shard when asked.
        var b = new Bank(seed, checkQuorum: false);
        var shard = TxnGroups.Shard(1);
        var stale = b.C.ActingFor(shard)!.Value;
        var majority = b.C.Ids.Where(id => id != stale).ToList();
        b.C.Sim.Partition([stale], [.. majority]);

        // The majority elects its own leaders and overwrites A.
        bool MajorityActs() => b.C.Groups.All.All(g => majority.Any(id => b.C.Core(id)!.Acts(g)));
        Assert.True(b.C.Sim.RunUntil(MajorityActs, 10_000), $"seed={seed}: the majority elected no leaders");
        b.CommitAt(seed, majority[0], new PutOp(b.A, "55"));
        var fresh = majority.First(id => b.C.Core(id)!.Acts(shard));
        Assert.True(b.C.Sim.RunUntil(() => b.C.Core(fresh)!.Participant(shard).Read(b.A) == "55", 5_000), $"seed={seed}: the shard did not apply the write");
        Assert.True(b.C.Core(stale)!.Acts(shard), $"seed={seed}: node {stale} should still believe it acts for the shard");

        // The cut-off node cannot confirm its leadership: no answer while cut off, and never the old value.
        var staleRead = b.C.ReadKey(stale, b.A)!.Value;
        b.C.Sim.RunFor(1_000);
        Assert.Null(b.C.KeyReadOf(staleRead));
        b.C.Sim.Heal();
        Assert.True(b.C.Sim.RunUntil(() => b.C.KeyReadOf(staleRead) is not null, 10_000), $"seed={seed}: the read at node {stale} was never answered");
        var answer = b.C.KeyReadOf(staleRead)!;
        Assert.True(!answer.Served || answer.Value == "55", $"seed={seed}: node {stale} served {answer.Value} after the majority wrote 55");

        // At the shard's leader the read is served, with the majority's value.
        Assert.True(b.C.Sim.RunUntil(b.C.Settled, 10_000), $"seed={seed}: not settled after the heal");
        var read = b.C.ReadKey(b.C.ActingFor(shard)!.Value, b.A)!.Value;
        Assert.True(b.C.Sim.RunUntil(() => b.C.KeyReadOf(read) is not null, 5_000), $"seed={seed}: the read at the leader was never answered");
        Assert.Equal((true, "55"), (b.C.KeyReadOf(read)!.Served, b.C.KeyReadOf(read)!.Value));
    });

    [Fact]
    public void A_coordinating_leader_cut_off_from_its_group_serves_no_view_of_a_transaction_the_majority_decided() => SeedRunner.Run(4, seed =>
    {
        // Without CheckQuorum the cut-off leader never steps down by itself: it still acts for the group when asked.
        var b = new Bank(seed, checkQuorum: false);
        var stale = b.C.ActingFor(Coordinator)!.Value;
        var majority = b.C.Ids.Where(id => id != stale).ToList();
        b.C.Sim.Partition([stale], [.. majority]);

        // The majority elects its own coordinating leader and commits a transaction the cut-off node never hears of.
        var id = b.CommitAt(seed, majority[0], new PutOp(b.A, "55"));
        Assert.True(b.C.Core(stale)!.Acts(Coordinator), $"seed={seed}: node {stale} should still believe it acts for the coordinating group");
        Assert.Null(b.C.Core(stale)!.Describe(id));

        // The cut-off node cannot confirm its leadership: no answer while cut off (never "unknown"), not served after.
        var staleRead = b.C.ReadView(stale, id)!.Value;
        b.C.Sim.RunFor(1_000);
        Assert.Null(b.C.ViewReadOf(staleRead));
        b.C.Sim.Heal();
        Assert.True(b.C.Sim.RunUntil(() => b.C.ViewReadOf(staleRead) is not null, 10_000), $"seed={seed}: the read at node {stale} was never answered");
        var answer = b.C.ViewReadOf(staleRead)!;
        Assert.True(!answer.Served || answer.View?.State == TxnState.Committed, $"seed={seed}: node {stale} served {answer.View?.State.ToString() ?? "unknown"} for {id}");

        // At the coordinating group's leader the view is served: committed.
        Assert.True(b.C.Sim.RunUntil(b.C.Settled, 10_000), $"seed={seed}: not settled after the heal");
        var read = b.C.ReadView(b.C.ActingFor(Coordinator)!.Value, id)!.Value;
        Assert.True(b.C.Sim.RunUntil(() => b.C.ViewReadOf(read) is not null, 5_000), $"seed={seed}: the read at the leader was never answered");
        Assert.Equal((true, TxnState.Committed), (b.C.ViewReadOf(read)!.Served, b.C.ViewReadOf(read)!.View?.State));
    });
}
