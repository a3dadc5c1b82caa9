using System.Collections.Immutable;
using DistSysActors.Core;

namespace DistSysActors.Simulation.Clocks;

/// <summary>A step of a simulated clock: from true time <paramref name="AtMs"/> on, it reads <paramref name="StepMs"/> more (less if negative).</summary>
public readonly record struct ClockStep(long AtMs, long StepMs);

/// <summary>
/// The error model of one simulated physical clock, all in milliseconds of true (simulation) time:
/// reading = true + offset + drift × true + amplitude × sin(2π true / period) + steps so far + jitter.
/// </summary>
public sealed record SimulatedClockSpec
{
    public const double DriftPpmMax = 100_000;
    public const int StepsMax = 1_000;

    public static readonly SimulatedClockSpec Perfect = new();

    /// <summary>What the clock reads at true time zero, minus zero.</summary>
    public double OffsetMs { get; init; }

    /// <summary>Frequency error in parts per million: +50 gains 50 µs every second.</summary>
    public double DriftPpm { get; init; }

    /// <summary>Amplitude of a periodic error (e.g. temperature swings).</summary>
    public double PeriodicAmplitudeMs { get; init; }

    public double PeriodicPeriodMs { get; init; } = 60_000;

    /// <summary>Sudden jumps (a VM migration, an operator setting the time), in time order.</summary>
    public ImmutableArray<ClockStep> Steps { get; init; } = ImmutableArray<ClockStep>.Empty;

    /// <summary>Each read is off by a fresh uniform error within ±JitterMs (read noise, not accumulated).</summary>
    public double JitterMs { get; init; }

    /// <summary>
    /// True when the error terms alone can never make the clock read backwards: no negative steps, no
    /// jitter, and a periodic error whose slope stays below the rate the clock runs at.
    /// </summary>
    public bool Monotonic =>
        JitterMs == 0 && Steps.All(s => s.StepMs >= 0)
        && PeriodicAmplitudeMs * 2 * Math.PI / PeriodicPeriodMs < 1 + DriftPpm / 1_000_000.0;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!double.IsFinite(OffsetMs)) errors.Add("offsetMs must be finite");
        if (!(Math.Abs(DriftPpm) <= DriftPpmMax)) errors.Add($"driftPpm must be within ±{DriftPpmMax}, was {DriftPpm}");
        if (!(PeriodicAmplitudeMs >= 0)) errors.Add($"periodicAmplitudeMs must not be negative, was {PeriodicAmplitudeMs}");
        if (!(PeriodicPeriodMs > 0)) errors.Add($"periodicPeriodMs must be positive, was {PeriodicPeriodMs}");
        if (!(JitterMs >= 0)) errors.Add($"jitterMs must not be negative, was {JitterMs}");
        if (Steps.Length > StepsMax) errors.Add($"at most {StepsMax} steps, was {Steps.Length}");
        for (var i = 1; i < Steps.Length; i++)
            if (Steps[i].AtMs < Steps[i - 1].AtMs) { errors.Add("steps must be in time order"); break; }
        return errors;
    }
}

/// <summary>
/// One node's simulated physical (raw, undisciplined) clock. Deterministic: the same spec and seed give the
/// same readings for the same sequence of reads. Jitter draws from its own seeded stream.
/// </summary>
public sealed class SimulatedClock
{
    private readonly DeterministicRandom _jitter;

    public SimulatedClock(SimulatedClockSpec spec, long seed = 0)
    {
        var errors = spec.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(spec));
        Spec = spec;
        _jitter = new DeterministicRandom(seed);
    }

    public SimulatedClockSpec Spec { get; }

    /// <summary>The clock's reading at true time <paramref name="trueTimeMs"/>, including jitter, in whole milliseconds (floored).</summary>
    public long ReadMs(long trueTimeMs) => (long)Math.Floor(ReadPreciseMs(trueTimeMs));

    /// <summary>The clock's reading at true time <paramref name="trueTimeMs"/>, including jitter, unrounded.</summary>
    public double ReadPreciseMs(long trueTimeMs)
    {
        var reading = trueTimeMs + ErrorMs(trueTimeMs);
        if (Spec.JitterMs > 0) reading += (_jitter.NextDouble() * 2 - 1) * Spec.JitterMs;
        return reading;
    }

    /// <summary>The reading minus true time at <paramref name="trueTimeMs"/>, without jitter (no random draw).</summary>
    public double ErrorMs(long trueTimeMs)
    {
        var error = Spec.OffsetMs + Spec.DriftPpm * trueTimeMs / 1_000_000.0;
        if (Spec.PeriodicAmplitudeMs > 0) error += Spec.PeriodicAmplitudeMs * Math.Sin(2 * Math.PI * trueTimeMs / Spec.PeriodicPeriodMs);
        foreach (var step in Spec.Steps)
        {
            if (step.AtMs > trueTimeMs) break;
            error += step.StepMs;
        }
        return error;
    }
}
