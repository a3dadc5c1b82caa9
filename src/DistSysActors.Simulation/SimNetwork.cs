using DistSysActors.Core;
using DistSysActors.Core.Network;

namespace DistSysActors.Simulation;

/// <summary>
/// The simulated wire: every message gets a base latency, then the current <see cref="FaultSpec"/> is applied
/// through Core's <see cref="FaultPlanner"/> (the same planner the real network component uses). Counts messages
/// in total and per message type name, so tests can bound a protocol's traffic.
/// </summary>
public sealed class SimNetwork
{
    private readonly FaultPlanner _planner;
    private readonly DeterministicRandom _latencyRandom;
    private readonly int _latencyMinMs, _latencyMaxMs;
    private readonly Dictionary<(NodeId From, NodeId To), long> _lastDeliveryMs = new();
    private readonly SortedDictionary<string, long> _sentByType = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, long> _deliveredByType = new(StringComparer.Ordinal);

    internal SimNetwork(DeterministicRandom random, int latencyMinMs, int latencyMaxMs)
    {
        _planner = new FaultPlanner(FaultSpec.None, (long)random.NextUInt64());
        _latencyRandom = random.Fork();
        _latencyMinMs = latencyMinMs;
        _latencyMaxMs = latencyMaxMs;
    }

    public FaultSpec Faults => _planner.Spec;

    /// <summary>What the fault planner did: partitioned, dropped, delayed, duplicated (self-sends bypass it).</summary>
    public NetworkCounters PlannerCounters => _planner.Counters;

    public long MessagesSent { get; private set; }
    public long MessagesDelivered { get; private set; }

    /// <summary>Messages that reached a node which was down or had restarted since they were sent.</summary>
    public long MessagesLostToCrash { get; private set; }

    /// <summary>Messages lost to a partition or to the drop rate.</summary>
    public long MessagesDropped => PlannerCounters.DroppedByPartition + PlannerCounters.Dropped;

    /// <summary>Sends per message type name (<c>GetType().Name</c>), in ordinal name order.</summary>
    public IReadOnlyDictionary<string, long> SentByType => _sentByType;
    public IReadOnlyDictionary<string, long> DeliveredByType => _deliveredByType;

    public long SentOf<T>() => _sentByType.GetValueOrDefault(typeof(T).Name);
    public long DeliveredOf<T>() => _deliveredByType.GetValueOrDefault(typeof(T).Name);

    internal void Apply(FaultSpec spec) => _planner.Apply(spec);

    /// <summary>Absolute delivery times of the copies of one message (none if lost). A node's messages to itself skip the faults.</summary>
    internal IReadOnlyList<long> Plan(NodeId from, NodeId to, long nowMs, string typeName)
    {
        MessagesSent++;
        _sentByType[typeName] = _sentByType.GetValueOrDefault(typeName) + 1;
        if (from == to) return [Fifo(from, to, nowMs, reorder: false)];
        var deliveries = _planner.Plan(from, to, nowMs);
        if (deliveries.Count == 0) return [];
        var reorder = _planner.Spec.Reorder;
        var times = new long[deliveries.Count];
        for (var i = 0; i < times.Length; i++)
        {
            var latencyMs = _latencyMaxMs == _latencyMinMs ? _latencyMinMs : _latencyRandom.NextInt(_latencyMinMs, _latencyMaxMs + 1);
            times[i] = Fifo(from, to, deliveries[i].DeliverAtMs + latencyMs, reorder);
        }
        return times;
    }

    // The random base latency must not break the planner's FIFO promise, so links are clamped again here.
    private long Fifo(NodeId from, NodeId to, long atMs, bool reorder)
    {
        if (reorder) return atMs;
        if (_lastDeliveryMs.TryGetValue((from, to), out var last) && last > atMs) atMs = last;
        _lastDeliveryMs[(from, to)] = atMs;
        return atMs;
    }

    internal void OnDelivered(string typeName)
    {
        MessagesDelivered++;
        _deliveredByType[typeName] = _deliveredByType.GetValueOrDefault(typeName) + 1;
    }

    internal void OnLostToCrash() => MessagesLostToCrash++;
}
