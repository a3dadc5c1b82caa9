using DistSysActors.Core;
using DistSysActors.Core.Network;

namespace DistSysActors.Simulation.Tests.Clocks;

/// <summary>
/// A minimal discrete-event loop in true (simulation) milliseconds: actions run in (time, insertion)
/// order, and messages cross a seeded <see cref="FaultPlanner"/>. Single-threaded and deterministic.
/// </summary>
internal sealed class VirtualTimeLoop
{
    private readonly PriorityQueue<Action, (long AtMs, long Seq)> _queue = new();
    private readonly FaultPlanner _network;
    private long _seq;

    public VirtualTimeLoop(FaultSpec network, long seed) => _network = new FaultPlanner(network, seed);

    public long NowMs { get; private set; }

    public NetworkCounters NetworkCounters => _network.Counters;

    public void At(long atMs, Action action) => _queue.Enqueue(action, (Math.Max(atMs, NowMs), _seq++));

    /// <summary>Runs <paramref name="action"/> at <paramref name="firstMs"/> and every <paramref name="periodMs"/> after.</summary>
    public void Every(long firstMs, long periodMs, Action action)
    {
        At(firstMs, () =>
        {
            action();
            Every(NowMs + periodMs, periodMs, action);
        });
    }

    /// <summary>Sends <paramref name="message"/>: <paramref name="deliver"/> runs at each planned delivery (none if lost).</summary>
    public void Send<TMessage>(NodeId from, NodeId to, TMessage message, Action<TMessage> deliver)
    {
        if (from == to) { At(NowMs, () => deliver(message)); return; }
        foreach (var delivery in _network.Plan(from, to, NowMs)) At(delivery.DeliverAtMs, () => deliver(message));
    }

    public void RunUntil(long endMs)
    {
        while (_queue.TryPeek(out _, out var at) && at.AtMs <= endMs)
        {
            var action = _queue.Dequeue();
            NowMs = at.AtMs;
            action();
        }
        NowMs = endMs;
    }
}
