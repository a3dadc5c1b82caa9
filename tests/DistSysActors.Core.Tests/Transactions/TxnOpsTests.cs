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
