using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace DistSysActors.Node.Commands.Bank;

/// <summary>One transfer a bank client sent: its accounts and amount, the node it went to, and what it learned.</summary>
internal sealed record BankTransfer(string IdempotencyKey, int Node, string From, string To, long Amount)
{
    /// <summary>The transaction id, once an answer named it.</summary>
    public string? Id { get; set; }
    /// <summary>What the POST answered: committed, aborted, unknown, or null while no answer came (the node died).</summary>
    public string? Answer { get; set; }
    public string? Reason { get; set; }
    /// <summary>The outcome <c>GET /txn/{id}</c> reports once the cluster settled (committed or aborted, or another state if still open).</summary>
    public string? Final { get; set; }
    /// <summary>Whether the coordinator had no record of the id (404): presumed abort.</summary>
    public bool NoRecord { get; set; }
}

/// <summary>
/// Every transfer the clients started, and the check run after the cluster settled: money conserved, no account below
/// its min, and each balance equal to its start plus the deltas of the transfers whose coordinator says committed.
/// </summary>
internal sealed class BankLedger
{
    private readonly ConcurrentQueue<BankTransfer> _transfers = new();

    public void Add(BankTransfer t) => _transfers.Enqueue(t);

    public IReadOnlyList<BankTransfer> Transfers => [.. _transfers];

    /// <summary>
    /// The check; an empty list means it holds. <paramref name="balances"/> maps each account to its committed value
    /// (null when absent or unreadable); every transfer must have its <see cref="BankTransfer.Final"/> outcome.
    /// </summary>
    public static IReadOnlyList<string> Check(IReadOnlyDictionary<string, long> start, long min, IReadOnlyList<BankTransfer> transfers,
        IReadOnlyDictionary<string, long?> balances)
    {
        var problems = new List<string>();
        var expected = new Dictionary<string, long>(start, StringComparer.Ordinal);
        foreach (var t in transfers)
        {
            switch (t.Final)
            {
                case "committed":
                    expected[t.From] -= t.Amount;
                    expected[t.To] += t.Amount;
                    break;
                case "aborted":
                    break;
                default:
                    problems.Add($"transfer {t.Id ?? t.IdempotencyKey} via node {t.Node} has no final outcome ({t.Final ?? "none"})");
                    break;
            }
            if (t.Answer is "committed" or "aborted" && t.Final is "committed" or "aborted" && t.Answer != t.Final)
                problems.Add($"transfer {t.Id} was answered {t.Answer} but its coordinator says {t.Final}");
        }
        long total = 0;
        foreach (var (account, startBalance) in start.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (!balances.TryGetValue(account, out var balance) || balance is not { } b)
            {
                problems.Add($"account {account} could not be read");
                continue;
            }
            total += b;
            if (b < min) problems.Add($"account {account} is {b}, below its min {min}");
            if (b != expected[account]) problems.Add($"account {account} is {b}; its start {startBalance} plus the committed transfers make {expected[account]}");
        }
        var startTotal = start.Values.Sum();
        if (balances.Count == start.Count && balances.Values.All(v => v is not null) && total != startTotal)
            problems.Add($"money not conserved: the accounts hold {total}, they started with {startTotal}");
        return problems;
    }

    /// <summary>An abort reason with its account names and numbers taken out, so that reasons of one kind count together.</summary>
    public static string ReasonKind(string? reason) =>
        reason is null ? "(none)" : Regex.Replace(Regex.Replace(reason, @"\bacct-\d+\b", "K"), @"-?\d+", "N");
}
