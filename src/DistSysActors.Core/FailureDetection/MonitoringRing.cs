using System.Collections.Immutable;

namespace DistSysActors.Core.FailureDetection;

/// <summary>
/// Who heartbeats whom, as in Akka.Cluster's <c>HeartbeatNodeRing</c>: members sit on a ring in NodeId
/// order and each node monitors the next <see cref="MonitoredByCount"/> nodes after it (wrapping
/// around), so each node is monitored by that many others and traffic is O(N·k), not O(N²).
/// Unreachable members passed in by the host are kept as receivers while they lie within the first k
/// ring positions, and reachable nodes further on are added so k reachable nodes stay monitored.
/// Immutable; every member computes the same ring from the same membership.
/// </summary>
public sealed class MonitoringRing
{
    public const int MembersMax = 1_000;

    public MonitoringRing(IEnumerable<NodeId> members, int monitoredByCount, IEnumerable<NodeId>? unreachable = null)
    {
        if (monitoredByCount < 1 || monitoredByCount >= MembersMax)
            throw new ArgumentOutOfRangeException(nameof(monitoredByCount), $"monitoredByCount must be within 1..{MembersMax - 1}, was {monitoredByCount}");
        Members = members.ToImmutableSortedSet();
        if (Members.Count > MembersMax)
            throw new ArgumentOutOfRangeException(nameof(members), $"at most {MembersMax} members, was {Members.Count}");
        Unreachable = (unreachable ?? []).Where(Members.Contains).ToImmutableSortedSet();
        MonitoredByCount = monitoredByCount;
    }

    public ImmutableSortedSet<NodeId> Members { get; }
    public ImmutableSortedSet<NodeId> Unreachable { get; }

    /// <summary>How many others monitor each node (Akka's <c>monitored-by-nr-of-members</c>), effectively capped at N − 1.</summary>
    public int MonitoredByCount { get; }

    /// <summary>The peers <paramref name="sender"/> heartbeats and whose failure it detects, in ring order.</summary>
    public IReadOnlyList<NodeId> Receivers(NodeId sender)
    {
        if (!Members.Contains(sender)) throw new ArgumentException($"node {sender} is not a member of the ring", nameof(sender));
        var ring = Members.ToImmutableArray();
        var start = ring.IndexOf(sender);
        var receivers = ImmutableArray.CreateBuilder<NodeId>();
        if (MonitoredByCount >= ring.Length - 1)
        {
            for (var i = 1; i < ring.Length; i++) receivers.Add(ring[(start + i) % ring.Length]);
            return receivers.ToImmutable();
        }
        var reachableNeeded = MonitoredByCount;
        for (var i = 1; i < ring.Length && reachableNeeded > 0; i++)
        {
            var next = ring[(start + i) % ring.Length];
            if (!Unreachable.Contains(next)) { receivers.Add(next); reachableNeeded--; }
            // An unreachable node stays monitored (so it can be seen coming back) only within the first k places.
            else if (receivers.Count < MonitoredByCount) receivers.Add(next);
        }
        return receivers.ToImmutable();
    }

    /// <summary>The nodes that monitor <paramref name="node"/>, in NodeId order.</summary>
    public IReadOnlyList<NodeId> MonitorsOf(NodeId node) =>
        Members.Where(m => m != node && Receivers(m).Contains(node)).ToImmutableArray();

    public MonitoringRing WithMembers(IEnumerable<NodeId> members, IEnumerable<NodeId>? unreachable = null) =>
        new(members, MonitoredByCount, unreachable ?? Unreachable);
}
