using DistSysActors.Core.Transactions;
using static DistSysActors.Core.Transactions.Txn;

namespace DistSysActors.Core.Tests.Transactions;

/// <summary>
/// Outcomes forgotten beyond <c>outcomes-max</c>: a participant asked about an id it does not know answers "aborted"
/// (presumed abort) only if it never had an outcome for it; one that may have forgotten a commit answers "uncertain",
/// so an in-doubt peer goes on waiting for the coordinator instead of aborting what committed elsewhere.
/// </summary>
public sealed class ForgottenOutcomeTests
{
    private static readonly string A = TxnTestKit.KeyOn(2, "a"), B = TxnTestKit.KeyOn(3, "b"), C = TxnTestKit.KeyOn(3, "c");

    [Fact]
    public void A_participant_that_forgot_a_commit_does_not_tell_an_in_doubt_peer_it_aborted()
    {
        var k = new TxnTestKit(TxnTestKit.Config with { OutcomesMax = 3 });
        k.Begin(1, TxnProtocol.TwoPhase, new PutOp(A, "100"), new PutOp(B, "0"));
        k.Deliver();
        // The transfer commits at node 3; node 2 misses its COMMIT and the coordinator dies before sending it again.
        var id = k.Begin(1, TxnProtocol.TwoPhase, new AddOp(A, -30, 0), new AddOp(B, 30, null));
        k.Deliver(drop: (_, to, m) => m is Decision && to == new NodeId(2));
        k.Crash(1);
        Assert.Equal("30", k.Value(B));
        Assert.Equal(TxnState.Prepared, k.Net[2].Participant.StateOf(id));
        // Node 3 decides more transactions than it remembers: the commit of the transfer is forgotten there.
        for (var i = 0; i < 4; i++) k.Begin(2, TxnProtocol.TwoPhase, new PutOp(C, $"{i}"));
        k.Deliver();
        Assert.Equal(TxnState.Unknown, k.Net[3].Participant.StateOf(id));

        // Node 2, in doubt, asks node 3 (cooperative termination): "uncertain", not "aborted"; it keeps blocking.
        k.Run(1_000);
        Assert.Contains(k.Net.Sent, s => s.Message is StateReply { State: TxnState.Active } r && r.Id == id && s.From == new NodeId(3));
        Assert.Equal(TxnState.Prepared, k.Net[2].Participant.StateOf(id));
        Assert.Equal("100", k.Value(A));

        // The restarted coordinator, which logged COMMIT, finishes it: the money is moved on both sides.
        k.Restart(1);
        k.Run(1_000);
        Assert.Equal(("70", "30"), (k.Value(A), k.Value(B)));
    }

    [Fact]
    public void An_id_above_everything_forgotten_is_still_presumed_aborted_and_one_below_answers_uncertain()
    {
        var k = new TxnTestKit(TxnTestKit.Config with { OutcomesMax = 1 });
        k.Begin(1, TxnProtocol.TwoPhase, new PutOp(B, "1"));
        k.Begin(1, TxnProtocol.TwoPhase, new PutOp(B, "2"));
        k.Deliver();
        var never = new TxnId(new NodeId(1), 50);
        k.Net[3].Step(new StateRequest(new NodeId(2), never, false), k.NowMs);
        k.Net.Flush();
        Assert.Contains(k.Net.InFlight, m => m.Message is StateReply { State: TxnState.Aborted } r && r.Id == never);
        var forgotten = new TxnId(new NodeId(1), 1);
        k.Net[3].Step(new StateRequest(new NodeId(2), forgotten, false), k.NowMs);
        k.Net.Flush();
        Assert.Contains(k.Net.InFlight, m => m.Message is StateReply { State: TxnState.Active } r && r.Id == forgotten);
    }
}
