using System.Runtime.CompilerServices;

namespace DistSysActors.Simulation.Tests;

/// <summary>Faults a scenario injects, checked against <see cref="SimFaultCounters"/> so a run that injected nothing cannot pass as tested.</summary>
[Flags]
internal enum SimFaults
{
    None = 0,
    /// <summary>A running node crashed.</summary>
    Crash = 1,
    Restart = 2,
    /// <summary>A partition was installed and cut messages.</summary>
    Partition = 4,
    /// <summary>The drop rate lost messages.</summary>
    Drop = 8,
    Duplicate = 16,
    /// <summary>Messages reached a node that was down or had restarted since they were sent.</summary>
    LostToCrash = 32,
    /// <summary>A crash caught writes on a node's disk before they were durable.</summary>
    WriteLost = 64,
    /// <summary>A crash tore a write: a prefix of its records persisted.</summary>
    TornWrite = 128,
    /// <summary>A node's process was paused.</summary>
    Pause = 256,
}

internal static class FaultChecks
{
    /// <summary>The faults among <paramref name="expected"/> that the counters show never happened.</summary>
    public static SimFaults Missing(SimFaultCounters c, SimFaults expected)
    {
        ArgumentNullException.ThrowIfNull(c);
        var seen = (c.Crashes > 0 ? SimFaults.Crash : 0)
            | (c.Restarts > 0 ? SimFaults.Restart : 0)
            | (c.PartitionsSet > 0 && c.DroppedByPartition > 0 ? SimFaults.Partition : 0)
            | (c.Dropped > 0 ? SimFaults.Drop : 0)
            | (c.Duplicated > 0 ? SimFaults.Duplicate : 0)
            | (c.LostToCrash > 0 ? SimFaults.LostToCrash : 0)
            | (c.WritesLostToCrash > 0 ? SimFaults.WriteLost : 0)
            | (c.TornWrites > 0 ? SimFaults.TornWrite : 0)
            | (c.Pauses > 0 ? SimFaults.Pause : 0);
        return expected & ~seen;
    }

    /// <summary>Throws, naming the seed, unless every fault in <paramref name="expected"/> happened in this run.</summary>
    public static void Require(long seed, SimFaultCounters counters, SimFaults expected)
    {
        var missing = Missing(counters, expected);
        if (missing != SimFaults.None)
            throw new Xunit.Sdk.XunitException($"seed={seed}: the scenario's faults did not happen ({missing}): {counters}");
    }
}

/// <summary>
/// Fault counters summed over a scenario's seeds, for faults a seed injects only by chance (a random crash or cut).
/// Checked only over two or more seeds: replaying one seed (DISTSYS_SEED) replays its own checks, not the sum's.
/// </summary>
internal sealed class FaultTally
{
    private readonly List<long> _seeds = [];

    /// <summary>
    /// Runs <paramref name="scenario"/> (which returns its run's fault counters) through <see cref="SeedRunner"/>, then
    /// requires every fault in <paramref name="expected"/> to have happened in at least one seed.
    /// </summary>
    public static void Run(int defaultSeeds, SimFaults expected, Func<long, SimFaultCounters> scenario, [CallerMemberName] string scenarioName = "")
    {
        var tally = new FaultTally();
        SeedRunner.Run(defaultSeeds, seed => tally.Add(seed, scenario(seed)), scenarioName);
        tally.Require(expected);
    }

    public SimFaultCounters Total { get; private set; } = SimFaultCounters.Zero;

    public void Add(long seed, SimFaultCounters counters)
    {
        _seeds.Add(seed);
        Total += counters;
    }

    /// <summary>Throws unless every fault in <paramref name="expected"/> happened in at least one of the seeds.</summary>
    public void Require(SimFaults expected)
    {
        if (_seeds.Count < 2) return;
        var missing = FaultChecks.Missing(Total, expected);
        if (missing != SimFaults.None)
            throw new Xunit.Sdk.XunitException($"over seeds {_seeds[0]}..{_seeds[^1]}: the scenario's faults never happened ({missing}): {Total}");
    }
}
