using DistSysActors.Core;
using DistSysActors.Core.FailureDetection;
using DistSysActors.Core.Network;

namespace DistSysActors.Simulation.Tests.FailureDetection;

/// <summary>
/// A small virtual-time world for the heartbeat protocol: one <see cref="HeartbeatMonitor"/> per node,
/// each ticked by its own timer (seeded phase), messages carried through a seeded <see cref="FaultPlanner"/>,
/// and crash-stop nodes that neither tick nor receive. Events at equal times run in scheduling order.
/// </summary>
internal sealed class HeartbeatWorld
{
    private abstract record Work(NodeId Node);
    private sealed record TickWork(NodeId Node) : Work(Node);
    private sealed record DeliverWork(NodeId Node, HeartbeatMessage Message) : Work(Node);

    private readonly PriorityQueue<Work, (long AtMs, long Seq)> _queue = new();
    private readonly FaultPlanner _network;
    private long _seq;

    public HeartbeatWorld(int nodeCount, HeartbeatSettings settings, FaultSpec faults, long seed, long tickMs = 100)
    {
        Seed = seed;
        TickMs = tickMs;
        var random = new DeterministicRandom(seed);
        _network = new FaultPlanner(faults, random.Fork().Seed);
        var ids = Enumerable.Range(1, nodeCount).Select(i => new NodeId(i)).ToArray();
        foreach (var id in ids)
        {
            Monitors.Add(id, new HeartbeatMonitor(id, ids, settings, 0));
            Schedule(random.NextInt(0, (int)tickMs), new TickWork(id));
        }
    }

    public long Seed { get; }
    public long TickMs { get; }
    public long NowMs { get; private set; }
    public SortedDictionary<NodeId, HeartbeatMonitor> Monitors { get; } = new();
    public HashSet<NodeId> Crashed { get; } = [];
    public List<ReachabilityEvent> Events { get; } = [];
    public NetworkCounters NetworkCounters => _network.Counters;

    /// <summary>Highest phi any live node has computed for a live peer at any of its ticks.</summary>
    public double MaxPhiAmongLive { get; private set; }

    public void Crash(NodeId node) => Crashed.Add(node);

    public void RunUntil(long untilMs)
    {
        while (_queue.TryPeek(out _, out var at) && at.AtMs <= untilMs)
        {
            var work = _queue.Dequeue();
            NowMs = at.AtMs;
            if (Crashed.Contains(work.Node)) continue;
            var monitor = Monitors[work.Node];
            switch (work)
            {
                case TickWork:
                    monitor.Tick(NowMs);
                    foreach (var status in monitor.Snapshot(NowMs))
                        if (!Crashed.Contains(status.NodeId)) MaxPhiAmongLive = Math.Max(MaxPhiAmongLive, status.Phi ?? 0);
                    Schedule(NowMs + TickMs, work);
                    break;
                case DeliverWork deliver:
                    monitor.Step(deliver.Message, NowMs);
                    break;
            }
            Drain(monitor);
        }
        NowMs = untilMs;
    }

    private void Drain(HeartbeatMonitor monitor)
    {
        var ready = monitor.TakeReady();
        Events.AddRange(ready.Events);
        foreach (var message in ready.Messages)
            foreach (var delivery in _network.Plan(message.From, message.To, NowMs))
                Schedule(delivery.DeliverAtMs, new DeliverWork(message.To, message));
    }

    private void Schedule(long atMs, Work work) => _queue.Enqueue(work, (atMs, _seq++));
}
