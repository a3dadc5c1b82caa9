using System.Globalization;
using DistSysActors.Core;

namespace DistSysActors.Simulation;

public enum SimTraceKind
{
    /// <summary>A node handed a message to the network; <see cref="SimTraceEvent.Deliveries"/> says how many copies will arrive.</summary>
    Sent,
    Delivered,
    /// <summary>A message reached a node that was down or had restarted since it was sent.</summary>
    LostToCrash,
    Tick,
    Start,
    Crash,
    Restart,
    Faults,
    Action,
    Note,
    /// <summary>A write on the node's simulated disk became durable (<see cref="SimTraceEvent.Detail"/> says what it was).</summary>
    WriteDone,
    /// <summary>A crash lost the node's writes still in flight; <see cref="SimTraceEvent.Deliveries"/> is how many.</summary>
    WritesLost,
    /// <summary>A crash tore the write being made durable: a prefix of its records persisted (Detail says how many).</summary>
    WriteTorn,
    /// <summary>The node's process stopped (GC pause, SIGSTOP): it handles nothing until Detail (the resume time).</summary>
    Pause,
}

/// <summary>
/// One thing that happened in a run. <see cref="Detail"/> is the message or note itself, formatted only when printed,
/// so tracing costs nothing per event beyond the record. Equal runs produce equal sequences of these.
/// </summary>
public sealed record SimTraceEvent(long Index, long AtMs, SimTraceKind Kind, NodeId Node, NodeId? Peer, object? Detail, int Deliveries = 0)
{
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        return Kind switch
        {
            SimTraceKind.Sent => string.Create(c, $"#{Index} t={AtMs}ms {Node}->{Peer} sent {Detail} (copies={Deliveries})"),
            SimTraceKind.Delivered => string.Create(c, $"#{Index} t={AtMs}ms {Peer}->{Node} delivered {Detail}"),
            SimTraceKind.LostToCrash => string.Create(c, $"#{Index} t={AtMs}ms {Peer}->{Node} lost (receiver crashed) {Detail}"),
            SimTraceKind.Tick => string.Create(c, $"#{Index} t={AtMs}ms {Node} tick"),
            _ => string.Create(c, $"#{Index} t={AtMs}ms {Node} {Kind.ToString().ToLowerInvariant()} {Detail}"),
        };
    }
}

/// <summary>A bounded ring of the most recent trace events.</summary>
internal sealed class TraceRing(int capacity)
{
    private readonly SimTraceEvent?[] _items = new SimTraceEvent?[capacity];
    private long _count;

    public void Add(SimTraceEvent e) => _items[_count++ % _items.Length] = e;

    /// <summary>The last <paramref name="max"/> events, oldest first.</summary>
    public IReadOnlyList<SimTraceEvent> Last(int max)
    {
        var n = (int)Math.Min(Math.Min(max, _items.Length), _count);
        var result = new SimTraceEvent[n];
        for (var i = 0; i < n; i++) result[i] = _items[(_count - n + i) % _items.Length]!;
        return result;
    }
}
