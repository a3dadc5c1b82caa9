using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Tests.Transactions;

/// <summary>3PC's phases and termination protocol (Skeen 1981), and sagas (Garcia-Molina, Salem 1987).</summary>
public sealed class ThreePhaseAndSagaTests
{
    private static readonly string A = TxnTestKit.KeyOn(2, "a"), B = TxnTestKit.KeyOn(3, "b"), C = TxnTestKit.KeyOn(1, "c");

    private static TxnTestKit Funded()
    {
        var k = new TxnTestKit();
        k.Begin(1, TxnProtocol.TwoPhase, new PutOp(A, "100"), new PutOp(B, "0"), new PutOp(C, "0"));
        k.Deliver();
        return k;
    }

    [Fact]
    public void ThreePC_runs_CanCommit_PreCommit_DoCommit_and_commits()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.ThreePhase, new AddOp(A, -10, 0), new AddOp(B, 10, null));
        k.Deliver();
        Assert.Equal(TxnState.Committed, k.AnswerOf(id)!.Outcome);
        Assert.Equal(("90", "10"), (k.Value(A), k.Value(B)));
        Assert.Contains(new PreCommittedRecord(id), k.Net.Journals[new NodeId(2)]);
    }

    [Fact]
    public void ThreePC_coordinator_crash_during_PreCommit_the_participants_terminate_and_commit_without_it()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.ThreePhase, new AddOp(A, -10, 0), new AddOp(B, 10, null));
        // PreCommit reaches node 2 only; then the coordinator dies.
        k.Deliver(drop: (_, to, m) => m is PreCommit && to == new NodeId(3) || m is PreCommitAck);
        k.Crash(1);
        Assert.Equal((TxnState.PreCommitted, TxnState.Prepared), (k.Net[2].Participant.StateOf(id), k.Net[3].Participant.StateOf(id)));
        k.Run(1_500);
        Assert.Equal(("90", "10"), (k.Value(A), k.Value(B)));
        Assert.True(k.Net[2].Participant.TerminatedBy3pc + k.Net[3].Participant.TerminatedBy3pc > 0);
        // The restarted coordinator learns the outcome from them.
        k.Restart(1);
        k.Run(500);
        Assert.Equal(TxnState.Committed, k.Net[1].Coordinator.Describe(id)!.State);
    }

    [Fact]
    public void ThreePC_all_participants_uncertain_after_the_coordinator_crash_terminate_with_abort()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.ThreePhase, new AddOp(A, -10, 0), new AddOp(B, 10, null));
        k.Deliver(drop: (_, _, m) => m is PreCommit || m is Vote);
        k.Crash(1);
        k.Run(1_500);
        Assert.Equal((TxnState.Aborted, TxnState.Aborted), (k.Net[2].Participant.StateOf(id), k.Net[3].Participant.StateOf(id)));
        Assert.Equal(("100", "0"), (k.Value(A), k.Value(B)));
        Assert.Empty(k.Net[2].Participant.Locks);
    }

    [Fact]
    public void ThreePC_under_a_partition_one_side_commits_and_the_other_aborts()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.ThreePhase, new AddOp(A, -10, 0), new AddOp(B, 10, null));
        bool Cut(NodeId from, NodeId to) => (from == new NodeId(3)) != (to == new NodeId(3));
        // PreCommit reaches node 2; node 3 is cut off (with its uncertain vote) before its PreCommit arrives.
        k.Deliver(drop: (from, to, m) => m is PreCommit && to == new NodeId(3) || m is PreCommitAck && from == new NodeId(2));
        k.Run(2_000, drop: (from, to, _) => Cut(from, to));
        // Node 1's side: node 2 pre-committed, so the coordinator's timeout commits; node 3 alone was uncertain: abort.
        Assert.Equal(TxnState.Committed, k.Net[2].Participant.StateOf(id));
        Assert.Equal(TxnState.Aborted, k.Net[3].Participant.StateOf(id));
        Assert.Equal(("90", "0"), (k.Value(A), k.Value(B)));
    }

    [Fact]
    public void A_saga_runs_its_steps_in_order_and_commits()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.Saga, new AddOp(A, -10, 0), new AddOp(B, 10, null));
        k.Deliver();
        Assert.Equal(TxnState.Committed, k.AnswerOf(id)!.Outcome);
        Assert.Equal(("90", "10"), (k.Value(A), k.Value(B)));
    }

    [Fact]
    public void A_refused_saga_step_compensates_the_steps_done_in_reverse_order_and_each_at_most_once()
    {
        var k = Funded();
        // Steps: node 2 (debit), node 3 (credit), node 1 (refused: below min).
        var id = k.Begin(1, TxnProtocol.Saga, new AddOp(A, -10, 0), new AddOp(B, 10, null), new AddOp(C, -1, 0));
        var compensations = 0;
        k.Deliver(drop: (_, _, m) => m is SagaCompensated && compensations++ == 0); // the first answer is lost: retried
        k.Run(500);
        var answer = k.AnswerOf(id)!;
        Assert.Equal(TxnState.Aborted, answer.Outcome);
        Assert.Contains("step 2", answer.Reason);
        Assert.Equal([(id, 1), (id, 0)], k.Net[1].Coordinator.CompensationOrder);
        Assert.Equal(("100", "0", "0"), (k.Value(A), k.Value(B), k.Value(C)));
        Assert.Single(k.Net.Journals[new NodeId(3)].OfType<SagaCompensationRecord>());
    }

    [Fact]
    public void A_saga_step_that_arrives_after_its_compensation_never_applies()
    {
        var k = Funded();
        var id = new TxnId(new NodeId(1), 50);
        k.Net[2].Step(new SagaCompensate(new NodeId(1), id, 0), 0);
        k.Net[2].Step(new SagaStep(new NodeId(1), id, 0, [new AddOp(A, -10, 0)]), 0);
        k.Net.Flush();
        Assert.Equal("100", k.Value(A));
        Assert.Contains(k.Net.InFlight, m => m.Message is SagaStepResult { Done: false });
    }
}
