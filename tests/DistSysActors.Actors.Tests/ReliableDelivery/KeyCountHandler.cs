using DistSysActors.Actors.ReliableDelivery;
using DistSysActors.Core;

namespace DistSysActors.Actors.Tests.ReliableDelivery;

/// <summary>A command whose effect is one increment of the counter named <paramref name="CounterId"/>.</summary>
public sealed record Increment(string CounterId);

/// <summary>The counters, as parallel arrays (serializable).</summary>
public sealed record KeyCounts(string[] Keys, int[] Counts)
{
    public IReadOnlyDictionary<string, int> ToDictionary() =>
        Keys.Zip(Counts, (k, c) => (k, c)).ToDictionary(p => p.k, p => p.c, StringComparer.Ordinal);
}

/// <summary>The demonstration's effect: a counter per id, incremented once per applied message.</summary>
public sealed class KeyCountHandler : IDeliveryHandler
{
    private readonly SortedDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public void Apply(NodeId from, string key, object payload, bool recovering)
    {
        var id = ((Increment)payload).CounterId;
        _counts[id] = _counts.GetValueOrDefault(id) + 1;
    }

    public object Snapshot() => new KeyCounts(_counts.Keys.ToArray(), _counts.Values.ToArray());

    public void Restore(object snapshot)
    {
        _counts.Clear();
        foreach (var (key, count) in ((KeyCounts)snapshot).ToDictionary()) _counts[key] = count;
    }
}
