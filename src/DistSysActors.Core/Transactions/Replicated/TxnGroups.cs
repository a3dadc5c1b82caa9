using System.Collections.Immutable;

namespace DistSysActors.Core.Transactions.Replicated;

/// <summary>
/// Replicated mode's addresses: one Raft group coordinates (its log is the coordinator's log) and each shard is a Raft
/// group (its log is that participant's log). Transaction messages name groups where classic mode names nodes, so the
/// classic cores run unchanged: group ids start at <see cref="CoordinatorValue"/>, far above any node id.
/// </summary>
public sealed class TxnGroups
{
    public const int CoordinatorValue = 100;
    public const int ShardsMax = 64;

    public TxnGroups(int shards)
    {
        if (shards is < 1 or > ShardsMax) throw new ArgumentOutOfRangeException(nameof(shards), shards, $"between 1 and {ShardsMax} shards");
        Shards = [.. Enumerable.Range(1, shards).Select(Shard)];
        All = [Coordinator, .. Shards];
        Partitioner = new TxnPartitioner(Shards);
    }

    public static NodeId Coordinator { get; } = new(CoordinatorValue);

    public ImmutableArray<NodeId> Shards { get; }

    /// <summary>The coordinating group first, then the shards in order.</summary>
    public ImmutableArray<NodeId> All { get; }

    /// <summary>Keys hash to shards (FNV-1a of the key modulo the number of shards).</summary>
    public TxnPartitioner Partitioner { get; }

    public static NodeId Shard(int number) => new(CoordinatorValue + number);

    /// <summary>The shard number (1-based) of a shard group id, or null for the coordinating group.</summary>
    public static int? ShardNumber(NodeId group) => group.Value > CoordinatorValue ? group.Value - CoordinatorValue : null;

    public static string Name(NodeId group) => ShardNumber(group) is { } n ? $"shard-{n}" : "coordinator";
}
