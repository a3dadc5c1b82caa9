using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Core.Transactions;
using DistSysActors.Simulation.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Simulation.Tests.Transactions;

/// <summary>
/// The classic failure modes of atomic commit, each on the simulator over several seeds: the coordinator is node 1, the
/// two participants nodes 2 (account A) and 3 (account B); crashes and cuts are triggered by the protocol's own messages.
/// </summary>
public sealed class TxnScenarioTests
{
    private static readonly NodeId N1 = new(1), N2 = new(2), N3 = new(3);

    private sealed class Bank
    {
        public Bank(long seed, FaultSpec? faults = null)
        {
            C = new TxnSimCluster(new SimulatorOptions { Seed = seed, TickIntervalMs = 10 }, 3, BankSimulationTests.SimConfig);
            A = C.KeyOn(2, "a");
            B = C.KeyOn(3, "b");
            var fund = C.Begin(N1, TxnProtocol.TwoPhase, new PutOp(A, "100"), new PutOp(B, "0"))!.Value;
            Assert.True(C.Sim.RunUntil(() => C.AnswerOf(fund.Request) is not null && C.Settled(), 5_000));
            if (faults is not null) C.Sim.SetFaults(faults);
        }

        public TxnSimCluster C { get; }
        public string A { get; }
        public string B { get; }

        public TxnId Transfer(TxnProtocol protocol, long amount = 30, NodeId? at = null) =>
            C.Begin(at ?? N1, protocol, new AddOp(A, -amount, 0), new AddOp(B, amount, null))!.Value.Id;

        public TxnState StateAt(NodeId node, TxnId id) => C.Core(node)!.Participant.StateOf(id);

        /// <summary>Runs the action when the coordinator has received the YES votes of both participants.</summary>
        public void AfterAllYesVotes(TxnId id, Action action)
        {
            var voters = new HashSet<NodeId>();
            C.OnFirstDelivery((to, m) => to == N1 && m is Vote { Yes: true } v && v.Id == id && voters.Add(v.From) && voters.Count == 2, action);
        }
    }

    [Fact]
    public void TwoPC_coordinator_crash_after_all_YES_votes_blocks_the_participants_with_their_locks_until_its_restart_finishes_it() => SeedRunner.Run(8, seed =>
    {
        var b = new Bank(seed);
        var id = b.Transfer(TxnProtocol.TwoPhase);
        b.AfterAllYesVotes(id, () => b.C.Sim.Crash(N1)); // its COMMIT, if decided, is still on its disk: lost
        b.C.Sim.RunFor(3_000);
        // Blocked: both prepared (uncertain peers cannot decide for each other), locks held, nothing applied.
        Assert.Equal((TxnState.Prepared, TxnState.Prepared), (b.StateAt(N2, id), b.StateAt(N3, id)));
        Assert.Equal(id, b.C.Core(2).Participant.Locks[b.A]);
        Assert.Equal("100", b.C.Value(b.A));
        // A conflicting transaction from node 2 waits for the lock, then times out with a NO.
        var other = b.C.Begin(N2, TxnProtocol.TwoPhase, new AddOp(b.A, -1, 0))!.Value;
        Assert.True(b.C.Sim.RunUntil(() => b.C.AnswerOf(other.Request) is not null, 5_000), $"seed={seed}");
        Assert.Contains("lock wait timed out", b.C.AnswerOf(other.Request)!.Reason);
        Assert.Equal(TxnState.Prepared, b.StateAt(N2, id));
        // The restarted coordinator finishes its log: no COMMIT record, so presumed abort.
        b.C.Sim.Restart(N1);
        Assert.True(b.C.Sim.RunUntil(b.C.Settled, 5_000), $"seed={seed}");
        Assert.Equal((TxnState.Aborted, TxnState.Aborted), (b.StateAt(N2, id), b.StateAt(N3, id)));
        Assert.Equal(("100", "0"), (b.C.Value(b.A), b.C.Value(b.B)));
        Assert.Empty(b.C.Core(2).Participant.Locks);
    });

    [Fact]
    public void TwoPC_participant_crash_after_voting_YES_recovers_into_PREPARED_with_its_locks_and_learns_the_commit() => SeedRunner.Run(8, seed =>
    {
        var b = new Bank(seed);
        var id = b.Transfer(TxnProtocol.TwoPhase);
        b.C.OnFirstDelivery((to, m) => to == N1 && m is Vote { Yes: true } v && v.From == N3, () => b.C.Sim.Crash(N3));
        Assert.True(b.C.Sim.RunUntil(() => !b.C.Sim.IsUp(N3) && b.StateAt(N2, id) == TxnState.Committed, 3_000), $"seed={seed}");
        b.C.Sim.RunFor(500);
        b.C.Sim.Restart(N3);
        Assert.Equal(TxnState.Prepared, b.StateAt(N3, id));
        Assert.Equal(id, b.C.Core(3).Participant.Locks[b.B]);
        Assert.True(b.C.Sim.RunUntil(b.C.Settled, 3_000), $"seed={seed}");
        Assert.Equal(("70", "30"), (b.C.Value(b.A), b.C.Value(b.B)));
    });

    [Fact]
    public void TwoPC_a_lost_COMMIT_is_delivered_again_and_applied_once() => SeedRunner.Run(8, seed =>
    {
        var b = new Bank(seed, new FaultSpec { DuplicateRate = 0.3 });
        var id = b.Transfer(TxnProtocol.TwoPhase);
        // Cut node 3 off once both voted: the COMMIT to it is lost; the coordinator sends it again after the heal.
        b.AfterAllYesVotes(id, () => b.C.Sim.Partition([N1, N2], [N3]));
        b.C.Sim.RunFor(1_000);
        Assert.Equal((TxnState.Committed, TxnState.Prepared), (b.StateAt(N2, id), b.StateAt(N3, id)));
        b.C.Sim.Heal();
        Assert.True(b.C.Sim.RunUntil(b.C.Settled, 3_000), $"seed={seed}");
        b.C.Sim.RunFor(500); // duplicates of the COMMIT still arriving apply nothing
        Assert.Equal(("70", "30"), (b.C.Value(b.A), b.C.Value(b.B)));
        Assert.Single(b.C.Journal(N3).OfType<OutcomeRecord>(), o => o.Id == id);
        Assert.True(b.C.Sim.FaultCounters.DroppedByPartition > 0, $"seed={seed}");
    });

    [Fact]
    public void TwoPC_cooperative_termination_an_in_doubt_participant_learns_the_outcome_from_its_peer_while_the_coordinator_is_down() => SeedRunner.Run(8, seed =>
    {
        var b = new Bank(seed);
        var id = b.Transfer(TxnProtocol.TwoPhase);
        // Node 3 crashes once its YES is in; the coordinator crashes once node 2 has the COMMIT.
        b.C.OnFirstDelivery((to, m) => to == N1 && m is Vote { Yes: true } v && v.From == N3, () => b.C.Sim.Crash(N3));
        b.C.OnFirstDelivery((to, m) => to == N2 && m is Decision { Commit: true }, () => b.C.Sim.Crash(N1));
        Assert.True(b.C.Sim.RunUntil(() => !b.C.Sim.IsUp(N1) && !b.C.Sim.IsUp(N3), 3_000), $"seed={seed}");
        b.C.Sim.Restart(N3);
        Assert.Equal(TxnState.Prepared, b.StateAt(N3, id));
        Assert.True(b.C.Sim.RunUntil(() => b.StateAt(N3, id) == TxnState.Committed, 3_000), $"seed={seed}: node 3 stayed in doubt");
        Assert.False(b.C.Sim.IsUp(N1));
        Assert.Equal(("70", "30"), (b.C.Value(b.A), b.C.Value(b.B)));
    });

    [Fact]
    public void ThreePC_coordinator_crash_during_PreCommit_the_participants_terminate_without_blocking() => SeedRunner.Run(8, seed =>
    {
        var b = new Bank(seed);
        var id = b.Transfer(TxnProtocol.ThreePhase);
        b.C.OnFirstDelivery((to, m) => to == N2 && m is PreCommit p && p.Id == id, () => b.C.Sim.Crash(N1));
        Assert.True(b.C.Sim.RunUntil(() => !b.C.Sim.IsUp(N1), 3_000), $"seed={seed}");
        // The coordinator stays down; both participants decide alike and release their locks.
        Assert.True(b.C.Sim.RunUntil(() => b.StateAt(N2, id) is TxnState.Committed or TxnState.Aborted && b.StateAt(N3, id) is TxnState.Committed or TxnState.Aborted, 3_000), $"seed={seed}: blocked");
        Assert.Equal(TxnState.Committed, b.StateAt(N2, id)); // node 2 was pre-committed: the termination rule commits
        Assert.Equal(TxnState.Committed, b.StateAt(N3, id));
        Assert.Empty(b.C.Core(3).Participant.Locks);
        Assert.Equal(("70", "30"), (b.C.Value(b.A), b.C.Value(b.B)));
        // Restarted, the coordinator adopts the participants' outcome.
        b.C.Sim.Restart(N1);
        Assert.True(b.C.Sim.RunUntil(b.C.Settled, 3_000), $"seed={seed}");
        Assert.Equal(TxnState.Committed, b.C.Core(1).Coordinator.Describe(id)!.State);
    });

    [Fact]
    public void ThreePC_under_a_partition_diverges_one_side_commits_and_the_other_aborts() => SeedRunner.Run(8, seed =>
    {
        // The known flaw of 3PC (it assumes no partitions): each side runs termination on its own survivors.
        var b = new Bank(seed);
        var id = b.Transfer(TxnProtocol.ThreePhase);
        b.AfterAllYesVotes(id, () => b.C.Sim.Partition([N1, N2], [N3])); // PreCommit leaves once durable: after the cut
        b.C.Sim.RunFor(2_000);
        // Node 2 pre-committed and commits (the coordinator's PreCommit timeout); node 3, alone and uncertain, aborts.
        Assert.Equal((TxnState.Committed, TxnState.Aborted), (b.StateAt(N2, id), b.StateAt(N3, id)));
        Assert.Equal(("70", "0"), (b.C.Value(b.A), b.C.Value(b.B))); // 30 destroyed: the atomicity violation, expected
        b.C.Sim.Heal();
        b.C.Sim.RunFor(2_000);
        Assert.Equal((TxnState.Committed, TxnState.Aborted), (b.StateAt(N2, id), b.StateAt(N3, id))); // healing does not repair it
    });

    [Fact]
    public void Saga_a_refused_step_compensates_the_steps_done_in_reverse_order_under_loss_and_duplication() => FaultTally.Run(8, SimFaults.Drop | SimFaults.Duplicate, seed =>
    {
        var b = new Bank(seed, new FaultSpec { DropRate = 0.2, DuplicateRate = 0.2 });
        var c = b.C.KeyOn(1, "c");
        // Steps: node 2 (debit A), node 3 (credit B), node 1 (debit C, which is 0: refused).
        var begun = b.C.Begin(N1, TxnProtocol.Saga, new AddOp(b.A, -30, 0), new AddOp(b.B, 30, null), new AddOp(c, -1, 0))!.Value;
        Assert.True(b.C.Sim.RunUntil(() => b.C.AnswerOf(begun.Request) is not null, 10_000), $"seed={seed}");
        Assert.Equal(TxnState.Aborted, b.C.AnswerOf(begun.Request)!.Outcome);
        Assert.Equal([(begun.Id, 1), (begun.Id, 0)], b.C.Core(1).Coordinator.CompensationOrder);
        b.C.Sim.RunFor(1_000);
        Assert.Equal(("100", "0", null), (b.C.Value(b.A), b.C.Value(b.B), b.C.Value(c)));
        Assert.Single(b.C.Journal(N2).OfType<SagaStepRecord>(), s => s.Id == begun.Id);
        Assert.Single(b.C.Journal(N2).OfType<SagaCompensationRecord>(), s => s.Id == begun.Id);
        return b.C.Sim.FaultCounters;
    });
}
