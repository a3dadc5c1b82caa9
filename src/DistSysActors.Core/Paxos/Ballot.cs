using System.Globalization;

namespace DistSysActors.Core.Paxos;

/// <summary>
/// A Paxos ballot (proposal number): a round and the proposer's node id, ordered by round, then node. Two proposers
/// never share a ballot because the node id breaks ties, and a proposer never reuses a round because it persists the
/// highest round it used before its Prepare leaves (Lamport, "Paxos Made Simple", section 2.2: unique proposal numbers).
/// Written "round.node", e.g. "3.2".
/// </summary>
public readonly record struct Ballot(long Round, NodeId Node) : IComparable<Ballot>
{
    /// <summary>Below every real ballot: what an acceptor that promised nothing holds.</summary>
    public static readonly Ballot Zero = new(0, new NodeId(0));

    public bool IsZero => Round == 0 && Node.Value == 0;

    public int CompareTo(Ballot other) => Round != other.Round ? Round.CompareTo(other.Round) : Node.CompareTo(other.Node);

    public static bool operator <(Ballot a, Ballot b) => a.CompareTo(b) < 0;
    public static bool operator >(Ballot a, Ballot b) => a.CompareTo(b) > 0;
    public static bool operator <=(Ballot a, Ballot b) => a.CompareTo(b) <= 0;
    public static bool operator >=(Ballot a, Ballot b) => a.CompareTo(b) >= 0;

    public static Ballot Max(Ballot a, Ballot b) => a >= b ? a : b;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Round}.{Node.Value}");

    /// <summary>Parses "round.node" (both non-negative integers).</summary>
    public static bool TryParse(string? text, out Ballot ballot)
    {
        ballot = Zero;
        var dot = text?.IndexOf('.') ?? -1;
        if (text is null || dot <= 0) return false;
        if (!long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var round)) return false;
        if (!int.TryParse(text.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var node)) return false;
        ballot = new Ballot(round, new NodeId(node));
        return true;
    }
}

/// <summary>The randomized, growing pause a proposer takes after a lost round before trying a higher ballot.</summary>
public sealed record PaxosBackoff(int BaseMs, int MaxMs)
{
    public static readonly PaxosBackoff Default = new(20, 1_000);

    /// <summary>
    /// The pause after the <paramref name="attempt"/>-th failed round (1 for the first): uniform in [d/2, d] with d =
    /// BaseMs * 2^(attempt-1), capped at MaxMs. Growth keeps duelling proposers from preempting each other forever, the
    /// randomness lets one of them finish its two phases while the other waits.
    /// </summary>
    public long Delay(int attempt, DeterministicRandom random)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 20);
        var ceiling = Math.Min((long)MaxMs, (long)BaseMs << exponent);
        return random.NextInt64(ceiling / 2, ceiling + 1);
    }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (BaseMs < 1) errors.Add($"backoff BaseMs must be at least 1, was {BaseMs}");
        if (MaxMs < BaseMs) errors.Add($"backoff MaxMs must be at least BaseMs, was {MaxMs}");
        return errors;
    }
}
