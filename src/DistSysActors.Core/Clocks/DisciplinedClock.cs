namespace DistSysActors.Core.Clocks;

/// <summary>How a <see cref="DisciplinedClock"/> applies corrections.</summary>
public sealed record ClockDisciplineSettings
{
    /// <summary>ntpd's step threshold (RFC 5905, appendix A.1.1: STEPT = 0.128 s).</summary>
    public const double DefaultStepThresholdMs = 128;

    /// <summary>ntpd's largest frequency correction (RFC 5905, appendix A.1.1: MAXFREQ = 500 PPM).</summary>
    public const double DefaultSlewRatePpmMax = 500;

    /// <summary>Corrections whose size exceeds this are stepped; smaller ones are slewed.</summary>
    public double StepThresholdMs { get; init; } = DefaultStepThresholdMs;

    /// <summary>The fastest a slew changes the correction, in microseconds per second of raw time.</summary>
    public double SlewRatePpmMax { get; init; } = DefaultSlewRatePpmMax;

    /// <summary>When false (Berkeley), a backward correction is always slewed, so the clock never reads backwards.</summary>
    public bool StepBackwardAllowed { get; init; } = true;

    /// <summary>ntpd's panic threshold (1000 s): a correction larger than this is refused as a fault, not applied.</summary>
    public double CorrectionMsMax { get; init; } = 1_000_000;

    /// <summary>Every problem with these settings, each naming its field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(StepThresholdMs >= 0)) errors.Add($"stepThresholdMs must not be negative, was {StepThresholdMs}");
        if (!(SlewRatePpmMax > 0 && SlewRatePpmMax <= 100_000)) errors.Add($"slewRatePpmMax must be within (0, 100000], was {SlewRatePpmMax}");
        if (!(CorrectionMsMax > 0)) errors.Add($"correctionMsMax must be positive, was {CorrectionMsMax}");
        return errors;
    }

    internal ClockDisciplineSettings Validated()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
        return this;
    }
}

public enum ClockAdjustmentKind
{
    /// <summary>The correction is reached gradually at no more than the slew rate.</summary>
    Slew,
    /// <summary>The correction was applied at once.</summary>
    Step,
    /// <summary>The correction exceeded <see cref="ClockDisciplineSettings.CorrectionMsMax"/> and was ignored.</summary>
    Refused,
}

/// <summary>The outcome of one <see cref="DisciplinedClock.Adjust"/>: what was done with a correction of <paramref name="DeltaMs"/>.</summary>
public readonly record struct ClockAdjustment(ClockAdjustmentKind Kind, double DeltaMs, long AtRawMs);

/// <summary>
/// A physical clock as a host reads it: the raw hardware clock plus a correction that synchronization
/// moves. Small corrections are slewed (the clock runs at most <see cref="ClockDisciplineSettings.SlewRatePpmMax"/>
/// fast or slow until the correction is reached), large ones stepped, like ntpd's clock discipline.
/// Because the slew rate is far below 100%, a slewing clock never reads backwards.
/// </summary>
/// <remarks>
/// Units: raw time and readings are whole milliseconds (<c>long</c>); the correction is fractional
/// milliseconds (<c>double</c>) because slews move it by microseconds. The correction advances
/// lazily with the raw time passed in, so it is a pure function of the raw readings and adjustments.
/// </remarks>
public sealed class DisciplinedClock
{
    private long _lastRawMs = long.MinValue;

    public DisciplinedClock(ClockDisciplineSettings? settings = null) => Settings = (settings ?? new ClockDisciplineSettings()).Validated();

    public ClockDisciplineSettings Settings { get; }

    /// <summary>Milliseconds added to the raw clock, as of the latest raw time seen.</summary>
    public double CorrectionMs { get; private set; }

    /// <summary>The correction a slew in progress is heading for.</summary>
    public double TargetCorrectionMs { get; private set; }

    /// <summary>How much of the latest correction is still to be slewed in.</summary>
    public double PendingSlewMs => TargetCorrectionMs - CorrectionMs;

    public long StepCount { get; private set; }

    public ClockAdjustment? LastAdjustment { get; private set; }

    /// <summary>The disciplined time at raw time <paramref name="rawMs"/>, in whole milliseconds.</summary>
    public long ReadMs(long rawMs) => (long)Math.Floor(ReadPreciseMs(rawMs));

    /// <summary>The disciplined time at raw time <paramref name="rawMs"/>, with the fractional correction.</summary>
    public double ReadPreciseMs(long rawMs)
    {
        Advance(rawMs);
        return rawMs + CorrectionMs;
    }

    /// <summary>
    /// Moves this clock by <paramref name="deltaMs"/> relative to its current reading: a step if the
    /// size exceeds the step threshold (and, when backwards, if stepping back is allowed), a slew otherwise.
    /// Replaces any slew still in progress.
    /// </summary>
    public ClockAdjustment Adjust(double deltaMs, long rawMs)
    {
        if (double.IsNaN(deltaMs) || double.IsInfinity(deltaMs)) throw new ArgumentOutOfRangeException(nameof(deltaMs), deltaMs, "deltaMs must be finite");
        Advance(rawMs);
        ClockAdjustment adjustment;
        if (Math.Abs(deltaMs) > Settings.CorrectionMsMax)
        {
            adjustment = new ClockAdjustment(ClockAdjustmentKind.Refused, deltaMs, rawMs);
        }
        else if (Math.Abs(deltaMs) > Settings.StepThresholdMs && (deltaMs > 0 || Settings.StepBackwardAllowed))
        {
            CorrectionMs += deltaMs;
            TargetCorrectionMs = CorrectionMs;
            StepCount++;
            adjustment = new ClockAdjustment(ClockAdjustmentKind.Step, deltaMs, rawMs);
        }
        else
        {
            TargetCorrectionMs = CorrectionMs + deltaMs;
            adjustment = new ClockAdjustment(ClockAdjustmentKind.Slew, deltaMs, rawMs);
        }
        LastAdjustment = adjustment;
        return adjustment;
    }

    /// <summary>Sets the correction to reach to <paramref name="targetCorrectionMs"/> (reference minus raw), stepping or slewing as <see cref="Adjust"/> does.</summary>
    public ClockAdjustment SteerTo(double targetCorrectionMs, long rawMs)
    {
        Advance(rawMs);
        return Adjust(targetCorrectionMs - CorrectionMs, rawMs);
    }

    private void Advance(long rawMs)
    {
        if (rawMs <= _lastRawMs) return; // a raw clock that jitters back must not replay a slew interval
        if (_lastRawMs != long.MinValue && CorrectionMs != TargetCorrectionMs)
        {
            var slewMs = (double)(rawMs - _lastRawMs) * Settings.SlewRatePpmMax / 1_000_000.0;
            var remaining = TargetCorrectionMs - CorrectionMs;
            CorrectionMs = Math.Abs(remaining) <= slewMs ? TargetCorrectionMs : CorrectionMs + Math.Sign(remaining) * slewMs;
        }
        _lastRawMs = rawMs;
    }
}
