using System.Collections.Immutable;

namespace DistSysActors.Core.Quorum;

/// <summary>Outcome of a vote counted against a quorum.</summary>
public enum VoteResult
{
    /// <summary>Neither a quorum of yes nor enough no votes to rule one out.</summary>
    Pending,
    Won,
    Lost,
}

/// <summary>
/// Majority arithmetic over a fixed set of voters, shared by Raft, Paxos, 2PC/3PC and replication:
/// vote results from yes/no sets and the largest index acknowledged by a majority.
/// </summary>
public sealed class MajorityQuorum
{
    public const int VotersMax = 1_000;

    public MajorityQuorum(IEnumerable<NodeId> voters)
    {
        ArgumentNullException.ThrowIfNull(voters);
        Voters = voters.Distinct().Order().ToImmutableArray();
        if (Voters.IsEmpty) throw new ArgumentException("a quorum needs at least one voter", nameof(voters));
        if (Voters.Length > VotersMax) throw new ArgumentException($"at most {VotersMax} voters", nameof(voters));
    }

    /// <summary>Voters in NodeId order.</summary>
    public ImmutableArray<NodeId> Voters { get; }

    /// <summary>Smallest number of voters forming a majority.</summary>
    public int Size => Voters.Length / 2 + 1;

    public bool Contains(NodeId node) => Voters.BinarySearch(node) >= 0;

    /// <summary>Votes from nodes that are not voters are ignored; a node in both sets counts as yes.</summary>
    public VoteResult Vote(IReadOnlySet<NodeId> yes, IReadOnlySet<NodeId> no)
    {
        ArgumentNullException.ThrowIfNull(yes);
        ArgumentNullException.ThrowIfNull(no);
        int granted = 0, missing = 0;
        foreach (var voter in Voters)
        {
            if (yes.Contains(voter)) granted++;
            else if (!no.Contains(voter)) missing++;
        }
        if (granted >= Size) return VoteResult.Won;
        return granted + missing >= Size ? VoteResult.Pending : VoteResult.Lost;
    }

    /// <summary>Same as <see cref="Vote(IReadOnlySet{NodeId}, IReadOnlySet{NodeId})"/> for a map of voter to granted.</summary>
    public VoteResult Vote(IReadOnlyDictionary<NodeId, bool> votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        int granted = 0, missing = 0;
        foreach (var voter in Voters)
        {
            if (!votes.TryGetValue(voter, out var v)) missing++;
            else if (v) granted++;
        }
        if (granted >= Size) return VoteResult.Won;
        return granted + missing >= Size ? VoteResult.Pending : VoteResult.Lost;
    }

    /// <summary>
    /// The largest index that a majority of voters has acknowledged (each voter's acknowledgement
    /// covers every smaller index). A voter the function has no value for counts as 0.
    /// </summary>
    public long CommittedIndex(Func<NodeId, long?> ackedIndex)
    {
        ArgumentNullException.ThrowIfNull(ackedIndex);
        Span<long> acked = Voters.Length <= 16 ? stackalloc long[Voters.Length] : new long[Voters.Length];
        for (var i = 0; i < Voters.Length; i++) acked[i] = ackedIndex(Voters[i]) ?? 0;
        acked.Sort();
        // After an ascending sort, this position and everything above it form a majority.
        return acked[Voters.Length - Size];
    }

    public long CommittedIndex(IReadOnlyDictionary<NodeId, long> ackedIndex)
    {
        ArgumentNullException.ThrowIfNull(ackedIndex);
        return CommittedIndex(n => ackedIndex.TryGetValue(n, out var v) ? v : null);
    }

    /// <summary>Whether the given nodes include a majority of the voters.</summary>
    public bool IsQuorum(IEnumerable<NodeId> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        return nodes.Distinct().Count(Contains) >= Size;
    }

    public override string ToString() => $"majority({string.Join(' ', Voters)})";
}
