using DistSysActors.Core.Transactions;

namespace DistSysActors.Core.Tests.Transactions;

public sealed class TxnOpsTests
{
    [Fact]
    public void Validation_refuses_no_ops_an_empty_key_and_an_oversized_value_and_accepts_a_transfer()
    {
        Assert.Contains("at least one", TxnOps.Validate([]));
        Assert.Contains("ops[1]: key", TxnOps.Validate([new PutOp("a", "1"), new DeleteOp("")]));
        Assert.Contains("value is longer", TxnOps.Validate([new PutOp("a", new string('x', TxnOps.ValueBytesMax + 1))]));
        Assert.Null(TxnOps.Validate([new AddOp("a", -5, 0), new AddOp("b", 5, null)]));
    }

    [Fact]
    public void Ops_apply_in_order_over_the_current_values_and_an_add_below_its_min_or_on_a_non_integer_refuses()
    {
        var values = new Dictionary<string, string> { ["a"] = "10", ["s"] = "text" };
        string? Read(string k) => values.GetValueOrDefault(k);
        var (writes, refusal) = TxnOps.Evaluate([new AddOp("a", -4, 0), new AddOp("a", -6, 0), new AddOp("n", 3, null), new PutOp("p", "v"), new DeleteOp("s")], Read);
        Assert.Null(refusal);
        Assert.Equal([new TxnWrite("a", "0"), new TxnWrite("n", "3"), new TxnWrite("p", "v"), new TxnWrite("s", null)], writes.ToArray());
        Assert.Contains("below its min 0", TxnOps.Evaluate([new AddOp("a", -11, 0)], Read).Refusal);
        Assert.Contains("not a decimal integer", TxnOps.Evaluate([new AddOp("s", 1, null)], Read).Refusal);
        Assert.Null(TxnOps.Evaluate([new AddOp("a", -11, 0)], Read, enforceMin: false).Refusal);
    }

    [Fact]
    public void A_compensation_inverts_adds_and_restores_the_before_image_of_puts_and_deletes()
    {
        var values = new Dictionary<string, string> { ["a"] = "10", ["p"] = "old" };
        var undo = TxnOps.Compensation([new AddOp("a", -4, 0), new PutOp("p", "new"), new PutOp("q", "x")], k => values.GetValueOrDefault(k));
        Assert.Equal<TxnOp>([new DeleteOp("q"), new PutOp("p", "old"), new AddOp("a", 4, null)], undo);
    }

    [Fact]
    public void Transaction_ids_print_and_parse_as_node_dash_sequence_and_keys_map_to_owners_stably()
    {
        Assert.True(TxnId.TryParse("2-17", out var id));
        Assert.Equal((new NodeId(2), 17L), (id.Coordinator, id.Seq));
        Assert.Equal("2-17", id.ToString());
        Assert.False(TxnId.TryParse("x-1", out _));
        Assert.False(TxnId.TryParse("2-", out _));
        Assert.False(TxnId.TryParse("0-3", out _));
        // FNV-1a 32-bit of "a" is 0xE40C292C: pinned so that every process maps keys alike.
        Assert.Equal(0xE40C292Cu, TxnPartitioner.Hash("a"));
        var p = new TxnPartitioner([new NodeId(3), new NodeId(1), new NodeId(2)]);
        var owners = Enumerable.Range(0, 300).Select(i => p.OwnerOf($"acct{i}")).GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(3, owners.Count);
        Assert.All(owners.Values, c => Assert.InRange(c, 60, 140));
    }
}

public sealed class TxnRecoveryTests
{
    private static readonly string A = TxnTestKit.KeyOn(2, "a"), B = TxnTestKit.KeyOn(3, "b");

    [Fact]
    public void A_node_rebuilt_from_its_snapshot_holds_the_same_values_outcomes_prepared_transactions_and_finished_views()
    {
        var k = new TxnTestKit();
        var done = k.Begin(1, TxnProtocol.TwoPhase, new PutOp(A, "100"), new PutOp(B, "0"));
        k.Deliver();
        var saga = k.Begin(1, TxnProtocol.Saga, new AddOp(A, -10, 0), new AddOp(B, 10, null));
        k.Deliver();
        var inDoubt = k.Begin(1, TxnProtocol.TwoPhase, new AddOp(A, -5, 0), new AddOp(B, 5, null));
        k.Deliver(drop: (_, _, m) => m is Txn.Vote);
        foreach (var id in TxnTestKit.Ids)
        {
            var rebuilt = new TxnNode(id, TxnTestKit.Ids, TxnTestKit.Config, [k.Net[id].Snapshot()]);
            Assert.Equal(k.Net[id].Participant.Committed, rebuilt.Participant.Committed);
            Assert.Equal(k.Net[id].Participant.Locks, rebuilt.Participant.Locks);
            Assert.Equal(k.Net[id].Participant.StateOf(done), rebuilt.Participant.StateOf(done));
            Assert.Equal(k.Net[id].Participant.StateOf(inDoubt), rebuilt.Participant.StateOf(inDoubt));
        }
        var coordinator = new TxnNode(new NodeId(1), TxnTestKit.Ids, TxnTestKit.Config, [k.Net[1].Snapshot()]);
        Assert.Equal(TxnState.Committed, coordinator.Coordinator.Describe(saga)!.State);
        Assert.Equal(TxnState.Active, coordinator.Coordinator.Describe(inDoubt)!.State);
        Assert.Equal(inDoubt.Seq + 1, coordinator.Coordinator.Begin(9, TxnProtocol.TwoPhase, [new PutOp("x", "1")], 0).Seq);
    }

    [Fact]
    public void A_retry_under_the_same_Idempotency_Key_gets_the_first_attempts_outcome_and_another_request_under_it_is_refused()
    {
        var k = new TxnTestKit();
        var first = Assert.IsType<Txn.Started>(k.Net[1].Coordinator.Begin(1, TxnProtocol.TwoPhase, [new PutOp(A, "1")], 0, "key-1", "f1"));
        k.Deliver();
        var retry = Assert.IsType<Txn.FoundByKey>(k.Net[1].Coordinator.Begin(2, TxnProtocol.TwoPhase, [new PutOp(A, "1")], 0, "key-1", "f1"));
        Assert.Equal(first.Id, retry.Id);
        k.Net.Flush();
        var replay = k.Net.Answers.Select(a => a.Answer).OfType<Txn.TxnAnswer>().Single(a => a.RequestId == 2);
        Assert.Equal((first.Id, TxnState.Committed, true), (replay.Id, replay.Outcome, replay.Replayed));
        Assert.IsType<Txn.KeyConflict>(k.Net[1].Coordinator.Begin(3, TxnProtocol.TwoPhase, [new PutOp(A, "2")], 0, "key-1", "f2"));
        // The key survives a restart (it is in BEGIN).
        k.Crash(1);
        var restarted = k.Restart(1);
        Assert.IsType<Txn.FoundByKey>(restarted.Coordinator.Begin(4, TxnProtocol.TwoPhase, [new PutOp(A, "1")], 0, "key-1", "f1"));
    }

    [Fact]
    public void Role_cores_each_take_only_their_own_messages_and_together_commit_like_a_node()
    {
        var coordinator = new TxnRoleCore(Txn.Role.Coordinator, new NodeId(1), TxnTestKit.Ids);
        var participant = new TxnRoleCore(Txn.Role.Participant, new NodeId(2), TxnTestKit.Ids);
        var id = coordinator.Coordinator!.Begin(1, TxnProtocol.TwoPhase, [new PutOp(A, "7")], 0);
        var begun = coordinator.TakeReady();
        coordinator.Advance(begun);
        var prepare = begun.MessagesAfterPersist.Single().Message;
        coordinator.Step(prepare, 0); // not the coordinator's: ignored
        Assert.False(coordinator.HasReady);
        participant.Step(prepare, 0);
        var vote = participant.TakeReady();
        participant.Advance(vote);
        Assert.Equal(id, Assert.IsType<Txn.Vote>(vote.MessagesAfterPersist.Single().Message).Id);
    }
}
