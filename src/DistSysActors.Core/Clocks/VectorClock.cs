using System.Collections.Immutable;
using System.Text;

namespace DistSysActors.Core.Clocks;

/// <summary>How two vector clocks relate under happens-before.</summary>
public enum VectorOrder
{
    Equal,
    /// <summary>The left clock happened before the right one.</summary>
    Before,
    /// <summary>The right clock happened before the left one.</summary>
    After,
    /// <summary>Neither happened before the other: the events are concurrent.</summary>
    Concurrent,
}

/// <summary>One node's counter in a vector clock.</summary>
public readonly record struct VectorClockEntry(NodeId Node, long Counter);

/// <summary>
/// An immutable vector clock (Fidge 1988, Mattern 1989): one counter per node, kept sorted by
/// <see cref="NodeId"/> with zero counters omitted, so equal clocks have equal entries and
/// iteration is deterministic. <c>a.Compare(b) == Before</c> exactly when a happened before b.
/// </summary>
public sealed class VectorClock : IEquatable<VectorClock>
{
    public const int EntriesMax = 1024;

    public static readonly VectorClock Empty = new(ImmutableArray<VectorClockEntry>.Empty);

    private VectorClock(ImmutableArray<VectorClockEntry> entries) => Entries = entries;

    /// <summary>The non-zero counters, sorted by node.</summary>
    public ImmutableArray<VectorClockEntry> Entries { get; }

    /// <summary>Builds a clock from any (node, counter) pairs; repeated nodes and negative counters are rejected.</summary>
    public static VectorClock From(IEnumerable<VectorClockEntry> entries)
    {
        var sorted = entries.Where(e => e.Counter != 0).OrderBy(e => e.Node).ToImmutableArray();
        for (var i = 0; i < sorted.Length; i++)
        {
            if (sorted[i].Counter < 0) throw new ArgumentException($"counter of node {sorted[i].Node} is negative", nameof(entries));
            if (i > 0 && sorted[i].Node == sorted[i - 1].Node) throw new ArgumentException($"node {sorted[i].Node} appears twice", nameof(entries));
        }
        if (sorted.Length > EntriesMax) throw new ArgumentException($"a vector clock holds at most {EntriesMax} nodes", nameof(entries));
        return new VectorClock(sorted);
    }

    /// <summary>The counter of <paramref name="node"/> (zero when absent).</summary>
    public long this[NodeId node]
    {
        get
        {
            var i = IndexOf(node);
            return i >= 0 ? Entries[i].Counter : 0;
        }
    }

    /// <summary>A local or send event on <paramref name="node"/>.</summary>
    public VectorClock Increment(NodeId node)
    {
        var i = IndexOf(node);
        if (i >= 0) return new VectorClock(Entries.SetItem(i, Entries[i] with { Counter = checked(Entries[i].Counter + 1) }));
        if (Entries.Length >= EntriesMax) throw new InvalidOperationException($"a vector clock holds at most {EntriesMax} nodes");
        return new VectorClock(Entries.Insert(~i, new VectorClockEntry(node, 1)));
    }

    /// <summary>The pointwise maximum: the least clock that both clocks happened before or equal.</summary>
    public VectorClock Merge(VectorClock other)
    {
        var merged = ImmutableArray.CreateBuilder<VectorClockEntry>(Entries.Length + other.Entries.Length);
        int i = 0, j = 0;
        while (i < Entries.Length || j < other.Entries.Length)
        {
            if (j == other.Entries.Length || (i < Entries.Length && Entries[i].Node < other.Entries[j].Node)) merged.Add(Entries[i++]);
            else if (i == Entries.Length || other.Entries[j].Node < Entries[i].Node) merged.Add(other.Entries[j++]);
            else merged.Add(new VectorClockEntry(Entries[i].Node, Math.Max(Entries[i++].Counter, other.Entries[j++].Counter)));
        }
        if (merged.Count > EntriesMax) throw new InvalidOperationException($"a vector clock holds at most {EntriesMax} nodes");
        return new VectorClock(merged.ToImmutable());
    }

    /// <summary>A receive event on <paramref name="node"/> of a message stamped <paramref name="remote"/>: merge, then tick.</summary>
    public VectorClock Receive(NodeId node, VectorClock remote) => Merge(remote).Increment(node);

    /// <summary>Compares under happens-before: Before when every counter is &lt;= the other's and the clocks differ.</summary>
    public VectorOrder Compare(VectorClock other)
    {
        bool someLess = false, someGreater = false;
        int i = 0, j = 0;
        while (i < Entries.Length || j < other.Entries.Length)
        {
            long mine, theirs;
            if (j == other.Entries.Length || (i < Entries.Length && Entries[i].Node < other.Entries[j].Node)) { mine = Entries[i++].Counter; theirs = 0; }
            else if (i == Entries.Length || other.Entries[j].Node < Entries[i].Node) { mine = 0; theirs = other.Entries[j++].Counter; }
            else { mine = Entries[i++].Counter; theirs = other.Entries[j++].Counter; }
            if (mine < theirs) someLess = true;
            else if (mine > theirs) someGreater = true;
        }
        return (someLess, someGreater) switch
        {
            (false, false) => VectorOrder.Equal,
            (true, false) => VectorOrder.Before,
            (false, true) => VectorOrder.After,
            _ => VectorOrder.Concurrent,
        };
    }

    public bool HappenedBefore(VectorClock other) => Compare(other) == VectorOrder.Before;

    public bool ConcurrentWith(VectorClock other) => Compare(other) == VectorOrder.Concurrent;

    public bool Equals(VectorClock? other) => other is not null && Entries.SequenceEqual(other.Entries);

    public override bool Equals(object? obj) => Equals(obj as VectorClock);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var e in Entries) hash.Add(e);
        return hash.ToHashCode();
    }

    private int IndexOf(NodeId node)
    {
        int lo = 0, hi = Entries.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >> 1;
            var c = Entries[mid].Node.CompareTo(node);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }

    public override string ToString()
    {
        var sb = new StringBuilder("{");
        for (var i = 0; i < Entries.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(Entries[i].Node).Append(':').Append(Entries[i].Counter);
        }
        return sb.Append('}').ToString();
    }
}
