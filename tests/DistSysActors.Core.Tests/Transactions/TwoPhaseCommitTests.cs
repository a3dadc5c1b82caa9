using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Tests.Transactions;

/// <summary>2PC with presumed abort, one test per rule (Bernstein, Hadzilacos, Goodman ch. 7.4; Mohan, Lindsay, Obermarck 1986).</summary>
public sealed class TwoPhaseCommitTests
{
    private static readonly string A = TxnTestKit.KeyOn(2, "a"), B = TxnTestKit.KeyOn(3, "b");

    private static TxnTestKit Funded()
    {
        var k = new TxnTestKit();
        k.Begin(1, TxnProtocol.TwoPhase, new PutOp(A, "100"), new PutOp(B, "0"));
        k.Deliver();
        return k;
    }

    private static TxnOp[] Transfer(long amount) => [new AddOp(A, -amount, 0), new AddOp(B, amount, null)];

    [Fact]
    public void All_yes_votes_commit_and_every_participant_applies_its_staged_writes()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.TwoPhase, Transfer(30));
        k.Deliver();
        Assert.Equal(TxnState.Committed, k.AnswerOf(id)!.Outcome);
        Assert.Equal(("70", "30"), (k.Value(A), k.Value(B)));
        Assert.Empty(k.Net[2].Participant.Locks);
        // END is logged once every participant acknowledged.
        Assert.Contains(new EndRecord(id), k.Net.Journals[new NodeId(1)]);
        Assert.Equal(TxnState.Committed, k.Net[1].Coordinator.Describe(id)!.State);
    }

    [Fact]
    public void A_participant_writes_PREPARED_with_its_writes_before_its_YES_vote_leaves()
    {
        var k = Funded();
        k.Begin(1, TxnProtocol.TwoPhase, Transfer(30));
        var prepare = k.Net.InFlight.Single(m => m.To == new NodeId(2)).Message;
        k.Net.InFlight.Clear();
        k.Net[2].Step(prepare, 0);
        var ready = k.Net[2].TakeReady();
        var prepared = Assert.IsType<PreparedRecord>(Assert.Single(ready.Writes));
        Assert.Equal([new TxnWrite(A, "70")], prepared.Writes.ToArray());
        Assert.Empty(ready.MessagesBeforePersist);
        Assert.True(Assert.IsType<Vote>(Assert.Single(ready.MessagesAfterPersist).Message).Yes);
    }

    [Fact]
    public void The_coordinator_forces_COMMIT_to_its_log_before_sending_it()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.TwoPhase, Transfer(30));
        k.Deliver(drop: (_, to, m) => m is Vote && to == new NodeId(1));
        var votes = k.Net.Sent.Where(s => s.Message is Vote v && v.Id == id).Select(s => s.Message).ToList();
        k.Net.InFlight.Clear();
        foreach (var v in votes) k.Net[1].Step(v, 0);
        var ready = k.Net[1].TakeReady();
        Assert.Contains(new DecisionRecord(id, TxnState.Committed, null), ready.Writes);
        Assert.Empty(ready.MessagesBeforePersist);
        Assert.All(ready.MessagesAfterPersist, m => Assert.True(m.Message is Decision { Commit: true }));
        Assert.Equal(TxnState.Committed, Assert.IsType<TxnAnswer>(Assert.Single(ready.Answers)).Outcome);
    }

    [Fact]
    public void A_NO_vote_aborts_with_its_reason_releases_the_locks_and_changes_nothing()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.TwoPhase, Transfer(130));
        k.Deliver();
        var answer = k.AnswerOf(id)!;
        Assert.Equal(TxnState.Aborted, answer.Outcome);
        Assert.Contains("below its min 0", answer.Reason);
        Assert.Equal(("100", "0"), (k.Value(A), k.Value(B)));
        Assert.Empty(k.Net[3].Participant.Locks);
    }

    [Fact]
    public void Coordinator_crash_after_all_YES_votes_leaves_participants_blocked_with_their_locks_until_its_restart_aborts()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.TwoPhase, Transfer(30));
        k.Deliver(drop: (_, to, m) => m is Vote && to == new NodeId(1)); // every vote is YES, none arrives
        k.Crash(1);
        k.Run(2_000);
        // In doubt: prepared, locks held, nothing applied, whatever the waiting; nobody else can decide (both peers are uncertain).
        Assert.Equal(TxnState.Prepared, k.Net[2].Participant.StateOf(id));
        Assert.Equal(id, k.Net[2].Participant.Locks[A]);
        Assert.Single(k.Net[3].Participant.InDoubtTransactions(k.NowMs));
        Assert.Equal("100", k.Value(A));
        // A conflicting transaction waits for the lock, then votes NO.
        var other = k.Begin(2, TxnProtocol.TwoPhase, new AddOp(A, -1, 0));
        k.Run(1_000);
        Assert.Equal(TxnState.Aborted, k.AnswerOf(other)!.Outcome);
        Assert.Contains("lock wait timed out", k.AnswerOf(other)!.Reason);
        // The restarted coordinator finds BEGIN without a decision: presumed abort finishes it.
        k.Restart(1);
        k.Run(1_000);
        Assert.Equal(TxnState.Aborted, k.Net[2].Participant.StateOf(id));
        Assert.Empty(k.Net[2].Participant.Locks);
        Assert.Equal(("100", "0"), (k.Value(A), k.Value(B)));
    }

    [Fact]
    public void A_restarted_coordinator_that_logged_COMMIT_sends_it_again_until_every_participant_acknowledged()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.TwoPhase, Transfer(30));
        k.Deliver(drop: (_, _, m) => m is Decision);
        Assert.Contains(new DecisionRecord(id, TxnState.Committed, null), k.Net.Journals[new NodeId(1)]);
        k.Crash(1);
        k.Restart(1);
        k.Run(500);
        Assert.Equal(("70", "30"), (k.Value(A), k.Value(B)));
        Assert.Contains(new EndRecord(id), k.Net.Journals[new NodeId(1)]);
    }

    [Fact]
    public void A_participant_that_crashes_after_voting_YES_recovers_into_PREPARED_with_its_locks_and_asks()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.TwoPhase, Transfer(30));
        k.Deliver(drop: (_, to, m) => m is Decision && to == new NodeId(3));
        k.Crash(3);
        var restarted = k.Restart(3);
        Assert.Equal(TxnState.Prepared, restarted.Participant.StateOf(id));
        Assert.Equal(id, restarted.Participant.Locks[B]);
        k.Run(1_000);
        Assert.Equal("30", k.Value(B));
        Assert.Empty(k.Net[3].Participant.Locks);
    }

    [Fact]
    public void A_lost_COMMIT_is_delivered_again_and_applied_once()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.TwoPhase, Transfer(30));
        var commitsTo3 = 0;
        k.Deliver(drop: (_, to, m) => m is Decision && to == new NodeId(3) && commitsTo3++ == 0);
        k.Run(300);
        Assert.True(k.Net.Sent.Count(s => s.Message is Decision { Commit: true } && s.To == new NodeId(3)) >= 2);
        // A duplicate COMMIT, late, applies nothing again.
        k.Net[3].Step(new Decision(new NodeId(1), id, true), k.NowMs);
        k.Net[3].Step(new Decision(new NodeId(1), id, true), k.NowMs);
        k.Deliver();
        Assert.Equal("30", k.Value(B));
        Assert.Single(k.Net.Journals[new NodeId(3)].OfType<OutcomeRecord>(), o => o.Id == id);
    }

    [Fact]
    public void Cooperative_termination_an_in_doubt_participant_learns_the_commit_from_a_peer_while_the_coordinator_is_down()
    {
        var k = Funded();
        var id = k.Begin(1, TxnProtocol.TwoPhase, Transfer(30));
        k.Deliver(drop: (_, to, m) => m is Decision && to == new NodeId(3));
        k.Crash(1);
        Assert.Equal(TxnState.Prepared, k.Net[3].Participant.StateOf(id));
        k.Run(1_000);
        Assert.Equal("30", k.Value(B));
        Assert.Contains(k.Net.Sent, s => s.Message is StateRequest && s.From == new NodeId(3) && s.To == new NodeId(2));
    }

    [Fact]
    public void A_participant_that_has_not_voted_refuses_when_asked_so_a_late_PREPARE_gets_NO()
    {
        var k = Funded();
        var id = new TxnId(new NodeId(1), 99);
        k.Net[3].Step(new StateRequest(new NodeId(2), id, false), 0);
        k.Net.Flush();
        Assert.Contains(new OutcomeRecord(id, false), k.Net.Journals[new NodeId(3)]);
        k.Net.InFlight.Clear();
        k.Net[3].Step(new Prepare(new NodeId(1), id, TxnProtocol.TwoPhase, [new NodeId(2), new NodeId(3)], [new AddOp(B, 1, null)]), 0);
        k.Net.Flush();
        Assert.False(Assert.IsType<Vote>(Assert.Single(k.Net.InFlight).Message).Yes);
    }

    [Fact]
    public void A_coordinator_answers_aborted_for_an_id_it_has_no_record_of_presumed_abort()
    {
        var k = new TxnTestKit();
        k.Net[1].Step(new DecisionQuery(new NodeId(2), new TxnId(new NodeId(1), 5)), 0);
        k.Net.Flush();
        Assert.Equal(TxnState.Aborted, Assert.IsType<StateReply>(Assert.Single(k.Net.InFlight).Message).State);
    }
}
