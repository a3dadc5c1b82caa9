namespace DistSysActors.Core.Clocks;

/// <summary>
/// A deliberate error applied to a host's real clock for demonstrations and multi-process tests
/// (<c>distsys.clock.skew-ms</c>, <c>drift-ppm</c>): the node's raw physical clock reads
/// host time + <see cref="SkewMs"/> + <see cref="DriftPpm"/> × (host time − <see cref="EpochMs"/>).
/// Pure: the host passes its own clock reading, in milliseconds.
/// </summary>
public readonly record struct InjectedSkew(long SkewMs, double DriftPpm, long EpochMs)
{
    public const double DriftPpmMax = 100_000;

    public static readonly InjectedSkew None = new(0, 0, 0);

    /// <summary>The skewed raw reading at host time <paramref name="hostMs"/>.</summary>
    public long ReadMs(long hostMs)
    {
        if (!(Math.Abs(DriftPpm) <= DriftPpmMax)) throw new InvalidOperationException($"driftPpm must be within ±{DriftPpmMax}, was {DriftPpm}");
        return hostMs + SkewMs + (long)Math.Floor(DriftPpm * (hostMs - EpochMs) / 1_000_000.0);
    }
}
