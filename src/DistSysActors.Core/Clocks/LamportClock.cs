namespace DistSysActors.Core.Clocks;

/// <summary>
/// A Lamport timestamp. Ordered by (Counter, Node): the node id breaks ties, giving the total
/// order of Lamport 1978, section 3 ("Ordering the Events Totally").
/// </summary>
public readonly record struct LamportTimestamp(long Counter, NodeId Node) : IComparable<LamportTimestamp>
{
    public int CompareTo(LamportTimestamp other)
    {
        var byCounter = Counter.CompareTo(other.Counter);
        return byCounter != 0 ? byCounter : Node.CompareTo(other.Node);
    }

    public static bool operator <(LamportTimestamp a, LamportTimestamp b) => a.CompareTo(b) < 0;
    public static bool operator >(LamportTimestamp a, LamportTimestamp b) => a.CompareTo(b) > 0;
    public static bool operator <=(LamportTimestamp a, LamportTimestamp b) => a.CompareTo(b) <= 0;
    public static bool operator >=(LamportTimestamp a, LamportTimestamp b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{Counter}@{Node}";
}

/// <summary>
/// A Lamport logical clock for one node, as an immutable value: every event returns the next clock.
/// Implementation rules IR1 and IR2 of Lamport 1978, section 2: tick before each local or send event;
/// on receipt take the maximum of the local and received counters, then tick.
/// </summary>
public readonly record struct LamportClock(NodeId Node, long Counter)
{
    public static LamportClock Start(NodeId node) => new(node, 0);

    /// <summary>The timestamp of the latest event on this node.</summary>
    public LamportTimestamp Timestamp => new(Counter, Node);

    /// <summary>A local or send event (IR1); the returned clock's <see cref="Timestamp"/> stamps the event.</summary>
    public LamportClock Tick() => this with { Counter = checked(Counter + 1) };

    /// <summary>A receive event for a message stamped <paramref name="remote"/> (IR2).</summary>
    public LamportClock Receive(LamportTimestamp remote) => this with { Counter = checked(Math.Max(Counter, remote.Counter) + 1) };
}
