using DistSysActors.Node.Commands.Bank;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>`distsys bench bank`: the check it runs once the cluster settled, over recorded transfers and read balances.</summary>
public class BankLedgerTests
{
    private static readonly Dictionary<string, long> Start = new() { ["a"] = 100, ["b"] = 100, ["c"] = 0 };

    private static BankTransfer T(string from, string to, long amount, string? final, string? answer = null) =>
        new($"k-{from}-{to}-{amount}", 1, from, to, amount) { Id = "1-1", Final = final, Answer = answer ?? final };

    private static IReadOnlyList<string> Check(BankTransfer[] transfers, long? a, long? b, long? c) =>
        BankLedger.Check(Start, 0, transfers, new Dictionary<string, long?> { ["a"] = a, ["b"] = b, ["c"] = c });

    [Fact]
    public void Balances_equal_to_the_start_plus_the_committed_transfers_hold()
    {
        Assert.Empty(Check([T("a", "b", 30, "committed"), T("b", "c", 200, "aborted"), T("b", "c", 10, "committed", answer: "unknown")], 70, 120, 10));
    }

    [Fact]
    public void A_committed_transfer_missing_from_the_balances_fails_the_check()
    {
        var problems = Check([T("a", "b", 30, "committed")], 100, 100, 0);
        Assert.Contains("account a is 100; its start 100 plus the committed transfers make 70", problems);
        Assert.Contains("account b is 100; its start 100 plus the committed transfers make 130", problems);
    }

    [Fact]
    public void Money_created_or_destroyed_and_a_negative_balance_fail_the_check()
    {
        var problems = Check([T("c", "a", 5, "aborted")], 105, 100, -5);
        Assert.Contains("account c is -5, below its min 0", problems);
        Assert.DoesNotContain(problems, p => p.StartsWith("money not conserved", StringComparison.Ordinal)); // 105 + 100 - 5: conserved, yet wrong
        Assert.Contains(Check([], 101, 100, 0), p => p.StartsWith("money not conserved: the accounts hold 201", StringComparison.Ordinal));
    }

    [Fact]
    public void A_transfer_without_a_final_outcome_or_contradicting_its_answer_fails_the_check()
    {
        Assert.Contains(Check([T("a", "b", 1, "prepared")], 100, 100, 0), p => p.Contains("has no final outcome (prepared)", StringComparison.Ordinal));
        Assert.Contains(Check([T("a", "b", 1, "aborted", answer: "committed")], 100, 100, 0), p => p.Contains("was answered committed but its coordinator says aborted", StringComparison.Ordinal));
    }

    [Fact]
    public void Abort_reasons_of_one_kind_count_together()
    {
        Assert.Equal(BankLedger.ReasonKind("participant 2 voted NO: key acct-3 would be -5, below its min 0"),
            BankLedger.ReasonKind("participant 3 voted NO: key acct-17 would be -12, below its min 0"));
    }
}
