namespace DistSysActors.Core;

/// <summary>
/// A seeded random source whose sequence is fixed by its seed on every platform and runtime
/// version (SplitMix64), so a simulation or a fault plan replays exactly from a logged seed.
/// Not thread-safe: each owner (an actor, a simulated node) keeps its own.
/// </summary>
public sealed class DeterministicRandom
{
    private ulong _state;

    public DeterministicRandom(long seed)
    {
        Seed = seed;
        _state = unchecked((ulong)seed);
    }

    public long Seed { get; }

    public ulong NextUInt64()
    {
        unchecked
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [minInclusive, maxExclusive).</summary>
    public long NextInt64(long minInclusive, long maxExclusive)
    {
        if (maxExclusive <= minInclusive)
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), "maxExclusive must exceed minInclusive");
        var range = (ulong)(maxExclusive - minInclusive);
        return minInclusive + (long)(NextUInt64() % range);
    }

    /// <summary>Uniform in [minInclusive, maxExclusive).</summary>
    public int NextInt(int minInclusive, int maxExclusive) => (int)NextInt64(minInclusive, maxExclusive);

    /// <summary>True with the given probability.</summary>
    public bool Chance(double probability) => probability > 0 && NextDouble() < probability;

    /// <summary>A new independent source derived from this one (for per-node streams).</summary>
    public DeterministicRandom Fork() => new((long)NextUInt64());
}
