namespace DistSysActors.Core.Network;

/// <summary>One delivery of a message: at <paramref name="DeliverAtMs"/> (same time base as the caller's <c>nowMs</c>).</summary>
public readonly record struct Delivery(long DeliverAtMs, bool Duplicate);

/// <summary>Counters of what a network did to the messages it carried.</summary>
public sealed record NetworkCounters(long Sent, long Delivered, long DroppedByPartition, long Dropped, long Delayed, long Duplicated);

/// <summary>
/// Applies a <see cref="FaultSpec"/> to messages, deciding with a seeded random source. Pure and
/// single-threaded (time enters as <c>nowMs</c>): the simulator and the per-node network actor each own one.
/// </summary>
public sealed class FaultPlanner
{
    private DeterministicRandom _random;
    private readonly Dictionary<(NodeId From, NodeId To), long> _lastDeliveryMs = new();
    private long _sent, _delivered, _partitioned, _dropped, _delayed, _duplicated;

    public FaultPlanner(long seed) : this(FaultSpec.None, seed) { }

    public FaultPlanner(FaultSpec spec, long seed)
    {
        _random = new DeterministicRandom(seed);
        Spec = FaultSpec.None;
        Apply(spec);
    }

    public FaultSpec Spec { get; private set; }
    public long Seed => _random.Seed;

    /// <summary>Installs a new spec; a spec with a seed restarts the random source from it. Throws on an invalid spec, changing nothing.</summary>
    public void Apply(FaultSpec spec)
    {
        var errors = spec.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(spec));
        Spec = spec;
        if (spec.Seed is { } seed) _random = new DeterministicRandom(seed);
    }

    public NetworkCounters Counters => new(_sent, _delivered, _partitioned, _dropped, _delayed, _duplicated);

    /// <summary>
    /// Decides the fate of one message sent at <paramref name="nowMs"/> on the link <paramref name="from"/> -> <paramref name="to"/>:
    /// no delivery if it is lost, otherwise one, or two if it is duplicated. Without <see cref="FaultSpec.Reorder"/>
    /// a link stays FIFO: no delivery is planned before an earlier one on the same link.
    /// </summary>
    public IReadOnlyList<Delivery> Plan(NodeId from, NodeId to, long nowMs)
    {
        _sent++;
        var spec = Spec;
        if (!spec.Connected(from, to)) { _partitioned++; return []; }
        if (_random.Chance(spec.DropRate)) { _dropped++; return []; }
        var first = Schedule(spec, from, to, nowMs, duplicate: false);
        if (!_random.Chance(spec.DuplicateRate)) return [first];
        _duplicated++;
        return [first, Schedule(spec, from, to, nowMs, duplicate: true)];
    }

    private Delivery Schedule(FaultSpec spec, NodeId from, NodeId to, long nowMs, bool duplicate)
    {
        var delayMs = spec.DelayMaxMs == 0 ? 0 : _random.NextInt(spec.DelayMinMs, spec.DelayMaxMs + 1);
        if (delayMs > 0) _delayed++;
        _delivered++;
        var at = nowMs + delayMs;
        if (!spec.Reorder)
        {
            if (_lastDeliveryMs.TryGetValue((from, to), out var last) && last > at) at = last;
            _lastDeliveryMs[(from, to)] = at;
        }
        return new Delivery(at, duplicate);
    }
}
