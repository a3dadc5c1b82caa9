namespace DistSysActors.Core.Clocks;

/// <summary>
/// A hybrid logical clock timestamp (l, c) of Kulkarni et al. 2014: <see cref="WallMs"/> is l, the
/// largest physical time (milliseconds) the node has heard of; <see cref="Logical"/> is c, which orders
/// events sharing the same l. Totally ordered by (l, c); pair it with a <see cref="NodeId"/> when
/// timestamps from different nodes must never tie.
/// </summary>
public readonly record struct HlcTimestamp(long WallMs, long Logical) : IComparable<HlcTimestamp>
{
    public static readonly HlcTimestamp Zero = new(0, 0);

    public int CompareTo(HlcTimestamp other)
    {
        var byWall = WallMs.CompareTo(other.WallMs);
        return byWall != 0 ? byWall : Logical.CompareTo(other.Logical);
    }

    public static bool operator <(HlcTimestamp a, HlcTimestamp b) => a.CompareTo(b) < 0;
    public static bool operator >(HlcTimestamp a, HlcTimestamp b) => a.CompareTo(b) > 0;
    public static bool operator <=(HlcTimestamp a, HlcTimestamp b) => a.CompareTo(b) <= 0;
    public static bool operator >=(HlcTimestamp a, HlcTimestamp b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{WallMs}.{Logical}";
}

/// <summary>What receiving a remote timestamp did to a <see cref="HybridLogicalClock"/>.</summary>
public abstract record HlcReceiveResult
{
    private HlcReceiveResult() { }

    /// <summary>The clock advanced; <paramref name="Timestamp"/> stamps the receive event.</summary>
    public sealed record Accepted(HlcTimestamp Timestamp) : HlcReceiveResult;

    /// <summary>
    /// The remote timestamp was more than <paramref name="MaxOffsetMs"/> ahead of local physical time, so
    /// it is refused and the clock is unchanged: accepting it would drag this node's l beyond the skew bound.
    /// </summary>
    public sealed record Rejected(HlcTimestamp Remote, long PhysicalMs, long MaxOffsetMs) : HlcReceiveResult
    {
        public long AheadMs => Remote.WallMs - PhysicalMs;

        public string Reason =>
            $"remote HLC timestamp {Remote} is {AheadMs} ms ahead of local physical time {PhysicalMs}, beyond the maximum offset of {MaxOffsetMs} ms";
    }
}

/// <summary>
/// A hybrid logical clock (Kulkarni, Demirbas, Madappa, Avva, Leone: "Logical Physical Clocks", 2014,
/// figure 5). Physical time enters as data in milliseconds, read from the node's (disciplined) clock.
/// Timestamps it issues strictly increase, respect happens-before, and keep l within the clock skew of
/// physical time. Mutable and single-threaded: the owning actor keeps one.
/// </summary>
public sealed class HybridLogicalClock
{
    /// <summary>A default maximum offset, as in CockroachDB's default of 500 ms.</summary>
    public const long DefaultMaxOffsetMs = 500;

    public HybridLogicalClock(long maxOffsetMs = DefaultMaxOffsetMs)
    {
        if (maxOffsetMs <= 0) throw new ArgumentOutOfRangeException(nameof(maxOffsetMs), maxOffsetMs, "maxOffsetMs must be positive");
        MaxOffsetMs = maxOffsetMs;
    }

    /// <summary>How far ahead of local physical time a remote timestamp may be before it is rejected.</summary>
    public long MaxOffsetMs { get; }

    /// <summary>The timestamp of the latest event on this node.</summary>
    public HlcTimestamp Last { get; private set; } = HlcTimestamp.Zero;

    /// <summary>A local or send event at physical time <paramref name="physicalMs"/>; returns the event's timestamp.</summary>
    public HlcTimestamp Now(long physicalMs)
    {
        // Send or local event: l := max(l, pt); c := c + 1 if l did not move, else 0.
        var l = Math.Max(Last.WallMs, physicalMs);
        var c = l == Last.WallMs ? checked(Last.Logical + 1) : 0;
        Last = new HlcTimestamp(l, c);
        return Last;
    }

    /// <summary>
    /// A receive event for a message stamped <paramref name="remote"/> at local physical time
    /// <paramref name="physicalMs"/>. Rejects, changing nothing, a remote timestamp more than
    /// <see cref="MaxOffsetMs"/> ahead of <paramref name="physicalMs"/>.
    /// </summary>
    public HlcReceiveResult Receive(HlcTimestamp remote, long physicalMs)
    {
        if (remote.WallMs - physicalMs > MaxOffsetMs) return new HlcReceiveResult.Rejected(remote, physicalMs, MaxOffsetMs);

        // Receive event: l := max(l, l_m, pt); c follows whichever of l and l_m supplied the new l, else 0.
        var previous = Last;
        var l = Math.Max(Math.Max(previous.WallMs, remote.WallMs), physicalMs);
        long c;
        if (l == previous.WallMs && l == remote.WallMs) c = checked(Math.Max(previous.Logical, remote.Logical) + 1);
        else if (l == previous.WallMs) c = checked(previous.Logical + 1);
        else if (l == remote.WallMs) c = checked(remote.Logical + 1);
        else c = 0;
        Last = new HlcTimestamp(l, c);
        return new HlcReceiveResult.Accepted(Last);
    }
}
