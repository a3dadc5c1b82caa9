namespace DistSysActors.Simulation;

/// <summary>A failure inside a simulation run: its message carries the seed, the virtual time and the recent trace so it replays.</summary>
public class SimulationException : Exception
{
    public SimulationException(string message, long seed, long atMs, Exception? inner = null) : base(message, inner)
    {
        Seed = seed;
        AtMs = atMs;
    }

    public long Seed { get; }
    public long AtMs { get; }
}

/// <summary>A registered invariant did not hold after an event.</summary>
public sealed class InvariantViolationException(string message, long seed, long atMs, string invariant, string violation)
    : SimulationException(message, seed, atMs)
{
    public string Invariant { get; } = invariant;
    public string Violation { get; } = violation;
}
