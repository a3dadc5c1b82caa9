using DistSysActors.Core.Clocks;

namespace DistSysActors.Core.Tests.Clocks;

public class DisciplinedClockTests
{
    [Fact]
    public void SmallCorrection_IsSlewedAtNoMoreThanTheMaximumRate()
    {
        var clock = new DisciplinedClock();
        clock.ReadMs(0);
        Assert.Equal(ClockAdjustmentKind.Slew, clock.Adjust(10, 0).Kind);
        var previous = clock.CorrectionMs;
        for (long raw = 1; raw <= 30_000; raw++)
        {
            clock.ReadMs(raw);
            var changedMs = clock.CorrectionMs - previous;
            if (!(changedMs >= 0 && changedMs <= 1 * 500 / 1_000_000.0 + 1e-12)) Assert.Fail($"at raw {raw} the correction moved {changedMs} ms in 1 ms");
            previous = clock.CorrectionMs;
        }
        Assert.Equal(10, clock.CorrectionMs, 9);
        Assert.Equal(0, clock.PendingSlewMs, 9);
        Assert.Equal(0, clock.StepCount);
    }

    [Fact]
    public void SlewTakesCorrectionOverRateTime()
    {
        var clock = new DisciplinedClock(new ClockDisciplineSettings { SlewRatePpmMax = 500 });
        clock.Adjust(-50, 1_000);
        // 50 ms at 500 µs/s takes 100 s of raw time.
        clock.ReadMs(1_000 + 99_000);
        Assert.True(clock.PendingSlewMs < -0.4, $"pending {clock.PendingSlewMs}");
        clock.ReadMs(1_000 + 100_000);
        Assert.Equal(-50, clock.CorrectionMs, 9);
    }

    [Theory]
    [InlineData(128.0, ClockAdjustmentKind.Slew)]
    [InlineData(128.5, ClockAdjustmentKind.Step)]
    [InlineData(-128.5, ClockAdjustmentKind.Step)]
    [InlineData(400.0, ClockAdjustmentKind.Step)]
    public void CorrectionAboveStepThreshold_IsStepped(double deltaMs, ClockAdjustmentKind expected)
    {
        var clock = new DisciplinedClock();
        var before = clock.ReadPreciseMs(5_000);
        var adjustment = clock.Adjust(deltaMs, 5_000);
        Assert.Equal(expected, adjustment.Kind);
        var after = clock.ReadPreciseMs(5_000);
        Assert.Equal(expected == ClockAdjustmentKind.Step ? before + deltaMs : before, after, 9);
    }

    [Fact]
    public void BackwardStepsForbidden_LargeNegativeCorrectionIsSlewed_AndReadsNeverDecrease()
    {
        var clock = new DisciplinedClock(new ClockDisciplineSettings { StepBackwardAllowed = false });
        var adjustment = clock.Adjust(-5_000, 0);
        Assert.Equal(ClockAdjustmentKind.Slew, adjustment.Kind);
        var last = long.MinValue;
        for (long raw = 0; raw <= 600_000; raw += 3)
        {
            var read = clock.ReadMs(raw);
            if (read < last) Assert.Fail($"read {read} after {last} at raw {raw}");
            last = read;
        }
        Assert.Equal(-300, clock.CorrectionMs, 6); // 600 s at 500 ppm
        Assert.Equal(ClockAdjustmentKind.Step, clock.Adjust(+500, 600_000).Kind);
    }

    [Fact]
    public void CorrectionBeyondPanicThreshold_IsRefusedAndChangesNothing()
    {
        var clock = new DisciplinedClock(new ClockDisciplineSettings { CorrectionMsMax = 60_000 });
        Assert.Equal(ClockAdjustmentKind.Refused, clock.Adjust(61_000, 0).Kind);
        Assert.Equal(0, clock.CorrectionMs);
        Assert.Equal(0, clock.TargetCorrectionMs);
    }

    [Fact]
    public void SteerTo_SetsTheTargetCorrection_ReplacingASlewInProgress()
    {
        var clock = new DisciplinedClock();
        clock.Adjust(40, 0);
        clock.ReadMs(10_000); // 5 ms slewed in
        clock.SteerTo(20, 10_000);
        Assert.Equal(20, clock.TargetCorrectionMs, 9);
        Assert.Equal(15, clock.PendingSlewMs, 9);
    }

    [Fact]
    public void InvalidSettings_AreRejectedNamingTheField()
    {
        var error = Assert.Throws<ArgumentException>(() => new DisciplinedClock(new ClockDisciplineSettings { SlewRatePpmMax = 0 }));
        Assert.Contains("slewRatePpmMax", error.Message);
    }
}

public class InjectedSkewTests
{
    [Fact]
    public void SkewAndDrift_AreAddedToTheHostClock_FromTheEpoch()
    {
        var skew = new InjectedSkew(SkewMs: -300, DriftPpm: 50, EpochMs: 1_000_000);
        Assert.Equal(1_000_000 - 300, skew.ReadMs(1_000_000));
        Assert.Equal(1_000_000 + 600_000 - 300 + 30, skew.ReadMs(1_000_000 + 600_000)); // 50 ppm of 600 s is 30 ms
        Assert.Equal(12_345, InjectedSkew.None.ReadMs(12_345));
    }
}
