using System.Collections.Immutable;
using DistSysActors.Simulation.Clocks;

namespace DistSysActors.Simulation.Tests.Clocks;

public class SimulatedClockTests
{
    [Fact]
    public void OffsetAndDrift_AccumulateLinearly()
    {
        var clock = new SimulatedClock(new SimulatedClockSpec { OffsetMs = -300, DriftPpm = 50 });
        Assert.Equal(-300, clock.ReadMs(0));
        Assert.Equal(1_000_000 - 300 + 50, clock.ReadMs(1_000_000)); // 50 ppm of 1000 s is 50 ms
        Assert.Equal(-300 + 0.05 * 3_600, clock.ErrorMs(3_600_000), 9);
    }

    [Fact]
    public void PeriodicError_SwingsWithTheGivenAmplitudeAndPeriod()
    {
        var clock = new SimulatedClock(new SimulatedClockSpec { PeriodicAmplitudeMs = 4, PeriodicPeriodMs = 40_000 });
        Assert.Equal(4, clock.ErrorMs(10_000), 9);
        Assert.Equal(-4, clock.ErrorMs(30_000), 9);
        Assert.Equal(0, clock.ErrorMs(40_000), 9);
    }

    [Fact]
    public void Steps_ApplyFromTheirTimeOn()
    {
        var clock = new SimulatedClock(new SimulatedClockSpec { Steps = [new ClockStep(5_000, 250), new ClockStep(8_000, -100)] });
        Assert.Equal(4_999, clock.ReadMs(4_999));
        Assert.Equal(5_250, clock.ReadMs(5_000));
        Assert.Equal(8_150, clock.ReadMs(8_000));
        Assert.False(clock.Spec.Monotonic);
    }

    [Fact]
    public void Jitter_StaysWithinItsBound_AndReplaysFromTheSeed()
    {
        var spec = new SimulatedClockSpec { JitterMs = 2 };
        var a = new SimulatedClock(spec, seed: 77);
        var b = new SimulatedClock(spec, seed: 77);
        var readsA = Enumerable.Range(0, 2_000).Select(i => a.ReadPreciseMs(i * 10L)).ToList();
        var readsB = Enumerable.Range(0, 2_000).Select(i => b.ReadPreciseMs(i * 10L)).ToList();
        Assert.Equal(readsA, readsB);
        Assert.All(readsA.Select((r, i) => r - i * 10L), e => Assert.InRange(e, -2, 2));
        Assert.True(readsA.Select((r, i) => r - i * 10L).Max() > 1.5, "jitter never approached its bound");
    }

    [Fact]
    public void MonotonicSpec_NeverReadsBackwards()
    {
        var spec = new SimulatedClockSpec { OffsetMs = 10, DriftPpm = -50, PeriodicAmplitudeMs = 5, PeriodicPeriodMs = 60_000, Steps = [new ClockStep(1_000, 30)] };
        Assert.True(spec.Monotonic);
        var clock = new SimulatedClock(spec);
        var last = long.MinValue;
        for (long t = 0; t < 200_000; t++)
        {
            var read = clock.ReadMs(t);
            if (read < last) Assert.Fail($"read {read} after {last} at {t}");
            last = read;
        }
    }

    [Fact]
    public void InvalidSpec_IsRejectedNamingTheField()
    {
        var error = Assert.Throws<ArgumentException>(() => new SimulatedClock(new SimulatedClockSpec { Steps = ImmutableArray.Create(new ClockStep(10, 1), new ClockStep(5, 1)) }));
        Assert.Contains("time order", error.Message);
        Assert.Contains("jitterMs", Assert.Throws<ArgumentException>(() => new SimulatedClock(new SimulatedClockSpec { JitterMs = -1 })).Message);
    }
}
