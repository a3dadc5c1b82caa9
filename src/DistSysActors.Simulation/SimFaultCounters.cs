namespace DistSysActors.Simulation;

/// <summary>
/// What a run's faults did so far, so a scenario can show its faults really happened: crashes of running nodes (a
/// restart of a running node crashes it first), restarts, fault specs installed with partitions, and the network's
/// losses (to a partition, to the drop rate, to a crashed receiver), extra delays and duplicates; then the disk's:
/// writes a crash caught in flight (lost, or torn: a prefix of the first one persisted) and process pauses.
/// </summary>
public sealed record SimFaultCounters(
    long Crashes, long Restarts, long PartitionsSet, long DroppedByPartition, long Dropped, long Duplicated, long Delayed, long LostToCrash,
    long WritesLostToCrash = 0, long TornWrites = 0, long Pauses = 0)
{
    public static readonly SimFaultCounters Zero = new(0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Sums counters, e.g. over the seeds of a scenario.</summary>
    public static SimFaultCounters operator +(SimFaultCounters a, SimFaultCounters b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return new(a.Crashes + b.Crashes, a.Restarts + b.Restarts, a.PartitionsSet + b.PartitionsSet, a.DroppedByPartition + b.DroppedByPartition,
            a.Dropped + b.Dropped, a.Duplicated + b.Duplicated, a.Delayed + b.Delayed, a.LostToCrash + b.LostToCrash,
            a.WritesLostToCrash + b.WritesLostToCrash, a.TornWrites + b.TornWrites, a.Pauses + b.Pauses);
    }

    public static SimFaultCounters Add(SimFaultCounters a, SimFaultCounters b) => a + b;
}
