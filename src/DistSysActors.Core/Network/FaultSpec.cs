using System.Collections.Immutable;

namespace DistSysActors.Core.Network;

/// <summary>
/// The faults a network applies to protocol messages: partition groups, loss, delay, duplication
/// and reordering. The same value drives the simulator and the real per-node network component.
/// </summary>
/// <remarks>
/// Partition groups: nodes in the same group talk; nodes in different groups do not. Nodes not
/// listed in any group form one more, implicit group together. An empty list means no partition.
/// Reorder: when false, each link keeps FIFO order even under delay (a message is never delivered
/// before one sent earlier on the same link); when true, each message's delay is independent, so
/// later messages may overtake earlier ones.
/// </remarks>
public sealed record FaultSpec
{
    public const int DelayMsMax = 60_000;
    public const int NodeIdMax = 1_000;

    public static readonly FaultSpec None = new();

    public ImmutableArray<ImmutableArray<NodeId>> Partitions { get; init; } = ImmutableArray<ImmutableArray<NodeId>>.Empty;
    public double DropRate { get; init; }
    public int DelayMinMs { get; init; }
    public int DelayMaxMs { get; init; }
    public double DuplicateRate { get; init; }
    public bool Reorder { get; init; }
    /// <summary>Seed of the random source that decides drops, delays and duplicates; null keeps the current source.</summary>
    public long? Seed { get; init; }

    public bool IsNone => Partitions.IsDefaultOrEmpty && DropRate == 0 && DelayMaxMs == 0 && DuplicateRate == 0 && !Reorder;

    /// <summary>Every problem with this spec, each naming its field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(DropRate >= 0 && DropRate <= 1)) errors.Add($"dropRate must be within [0, 1], was {DropRate}");
        if (!(DuplicateRate >= 0 && DuplicateRate <= 1)) errors.Add($"duplicateRate must be within [0, 1], was {DuplicateRate}");
        if (DelayMinMs < 0 || DelayMaxMs < 0) errors.Add("delayMs bounds must not be negative");
        if (DelayMinMs > DelayMaxMs) errors.Add($"delayMs minimum {DelayMinMs} exceeds maximum {DelayMaxMs}");
        if (DelayMaxMs > DelayMsMax) errors.Add($"delayMs maximum must be at most {DelayMsMax}, was {DelayMaxMs}");
        if (!Partitions.IsDefaultOrEmpty)
        {
            var seen = new HashSet<NodeId>();
            foreach (var group in Partitions)
            {
                if (group.IsDefaultOrEmpty) { errors.Add("partitions must not contain an empty group"); continue; }
                foreach (var node in group)
                {
                    if (node.Value < 1 || node.Value > NodeIdMax) errors.Add($"partitions: node id {node} out of range 1..{NodeIdMax}");
                    else if (!seen.Add(node)) errors.Add($"partitions: node {node} appears in more than one group");
                }
            }
        }
        return errors;
    }

    /// <summary>Whether a message from <paramref name="from"/> may reach <paramref name="to"/> under the partition groups.</summary>
    public bool Connected(NodeId from, NodeId to) => from == to || GroupOf(from) == GroupOf(to);

    private int GroupOf(NodeId node)
    {
        if (Partitions.IsDefaultOrEmpty) return 0;
        for (var i = 0; i < Partitions.Length; i++)
            if (Partitions[i].Contains(node)) return i;
        return -1; // the implicit group of unlisted nodes
    }

    public static FaultSpec Partition(params int[][] groups) => new()
    {
        Partitions = groups.Select(g => g.Select(n => new NodeId(n)).ToImmutableArray()).ToImmutableArray(),
    };

    public bool Equals(FaultSpec? other) =>
        other is not null
        && DropRate.Equals(other.DropRate) && DelayMinMs == other.DelayMinMs && DelayMaxMs == other.DelayMaxMs
        && DuplicateRate.Equals(other.DuplicateRate) && Reorder == other.Reorder && Seed == other.Seed
        && Partitions.Length == other.Partitions.Length
        && Partitions.Zip(other.Partitions).All(p => p.First.SequenceEqual(p.Second));

    /// <summary>Readable form for logs, e.g. "partition 1,2/3, drop 0.1, delay 5-50 ms".</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (!Partitions.IsDefaultOrEmpty) parts.Add("partition " + string.Join("/", Partitions.Select(g => string.Join(",", g))));
        if (DropRate > 0) parts.Add($"drop {DropRate}");
        if (DelayMaxMs > 0) parts.Add($"delay {DelayMinMs}-{DelayMaxMs} ms");
        if (DuplicateRate > 0) parts.Add($"duplicate {DuplicateRate}");
        if (Reorder) parts.Add("reorder");
        if (Seed is { } seed) parts.Add($"seed {seed}");
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    public override int GetHashCode() => HashCode.Combine(DropRate, DelayMinMs, DelayMaxMs, DuplicateRate, Reorder, Seed, Partitions.Length);
}
