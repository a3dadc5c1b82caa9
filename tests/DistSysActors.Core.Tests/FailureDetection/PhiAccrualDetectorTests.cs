using DistSysActors.Core.FailureDetection;
using Xunit.Abstractions;

namespace DistSysActors.Core.Tests.FailureDetection;

/// <summary>Scripted-clock tests of the phi accrual detector with Akka.Cluster's defaults.</summary>
public sealed class PhiAccrualDetectorTests(ITestOutputHelper output)
{
    private static readonly PhiAccrualSettings AkkaDefaults = new()
    {
        Threshold = 8.0,
        MaxSampleSize = 1_000,
        MinStdDeviationMs = 100,
        AcceptableHeartbeatPauseMs = 3_000,
        FirstHeartbeatEstimateMs = 1_000,
    };

    /// <summary>Feeds heartbeats at the given inter-arrival times starting at 0; returns the detector and the last arrival time.</summary>
    private static (PhiAccrualDetector Detector, long LastMs) Feed(PhiAccrualSettings settings, IEnumerable<long> intervalsMs)
    {
        var detector = new PhiAccrualDetector(settings);
        long now = 0;
        detector.Heartbeat(now);
        foreach (var interval in intervalsMs)
        {
            now += interval;
            detector.Heartbeat(now);
        }
        return (detector, now);
    }

    /// <summary>Milliseconds after the last heartbeat at which the detector first suspects the peer.</summary>
    private static long SuspicionDelayMs(PhiAccrualDetector detector, long lastMs)
    {
        for (var delay = 0L; delay <= 120_000; delay++)
            if (!detector.IsAvailable(lastMs + delay)) return delay;
        throw new InvalidOperationException("never suspected within 120 s");
    }

    private static long[] Steady(int count) => Enumerable.Repeat(1_000L, count).ToArray();

    private static long[] Jittery(int count, long seed)
    {
        var random = new DeterministicRandom(seed);
        return Enumerable.Range(0, count).Select(_ => 1_000L + random.NextInt(-200, 201)).ToArray();
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(42L)]
    [InlineData(20261125L)]
    public void Phi_stays_low_with_heartbeats_every_second_plus_minus_200ms(long seed)
    {
        var detector = new PhiAccrualDetector(AkkaDefaults);
        var maxPhi = 0.0;
        long now = 0;
        detector.Heartbeat(now);
        foreach (var interval in Jittery(600, seed))
        {
            for (var probe = 10L; probe <= interval; probe += 10)
            {
                maxPhi = Math.Max(maxPhi, detector.CurrentPhi(now + probe));
                Assert.True(detector.IsAvailable(now + probe), $"seed {seed}: suspected {probe} ms after a heartbeat at {now}");
            }
            now += interval;
            detector.Heartbeat(now);
        }
        output.WriteLine($"seed {seed}: max phi between heartbeats = {maxPhi:E3}");
        // Without the acceptable pause, phi 1.2 s after a heartbeat with mean 1 s and sd 115 ms would be about 1.4.
        Assert.True(maxPhi < 0.01, $"seed {seed}: max phi {maxPhi}");
    }

    [Fact]
    public void With_akka_defaults_a_steady_peer_is_suspected_about_4_5_s_after_its_last_heartbeat()
    {
        var (detector, last) = Feed(AkkaDefaults, Steady(300));
        var delay = SuspicionDelayMs(detector, last);
        output.WriteLine($"steady 1 s heartbeats: suspected {delay} ms after the last heartbeat (phi {detector.CurrentPhi(last + delay):F3})");
        // mean 1000 + pause 3000, sd floored at 100: phi reaches 8 about 5.2 standard deviations later.
        Assert.InRange(delay, 4_500, 4_550);
        Assert.True(detector.CurrentPhi(last + delay - 1) < AkkaDefaults.Threshold);
        Assert.True(detector.CurrentPhi(last + delay) >= AkkaDefaults.Threshold);
    }

    [Fact]
    public void After_a_single_heartbeat_the_first_heartbeat_estimate_still_bounds_detection()
    {
        var (detector, last) = Feed(AkkaDefaults, []);
        Assert.Equal([750L, 1_250L], detector.History.IntervalsMs);
        var delay = SuspicionDelayMs(detector, last);
        output.WriteLine($"one heartbeat only: suspected {delay} ms later");
        // Bootstrap history mean 1000, sd 250: wider than a measured steady history, so later than 4.5 s.
        Assert.InRange(delay, 5_000, 5_600);
    }

    [Fact]
    public void A_pause_of_2_5_s_does_not_trip_the_detector()
    {
        var (detector, last) = Feed(AkkaDefaults, Steady(100));
        for (var probe = 0L; probe <= 2_500; probe++)
            Assert.True(detector.IsAvailable(last + probe), $"suspected {probe} ms into a 2.5 s pause");
        Assert.True(detector.CurrentPhi(last + 2_500) < 0.01, $"phi at 2.5 s = {detector.CurrentPhi(last + 2_500)}");
        var countBefore = detector.History.Count;
        detector.Heartbeat(last + 2_500);
        Assert.Equal(countBefore + 1, detector.History.Count);
        Assert.Equal(2_500L, detector.History.IntervalsMs.Last());
    }

    [Theory]
    [InlineData(7L)]
    [InlineData(99L)]
    public void A_jittery_history_detects_later_than_a_steady_one(long seed)
    {
        var (steady, steadyLast) = Feed(AkkaDefaults, Steady(300));
        var (jittery, jitteryLast) = Feed(AkkaDefaults, Jittery(300, seed));
        var steadyDelay = SuspicionDelayMs(steady, steadyLast);
        var jitteryDelay = SuspicionDelayMs(jittery, jitteryLast);
        output.WriteLine($"seed {seed}: steady {steadyDelay} ms (sd {steady.History.StdDeviationMs:F1}), jittery ±200 ms {jitteryDelay} ms (sd {jittery.History.StdDeviationMs:F1})");
        Assert.True(jitteryDelay > steadyDelay + 50, $"seed {seed}: jittery {jitteryDelay} ms vs steady {steadyDelay} ms");
    }

    [Fact]
    public void The_first_heartbeat_after_a_suspicion_is_kept_out_of_the_history()
    {
        var (detector, last) = Feed(AkkaDefaults, Steady(20));
        var count = detector.History.Count;
        Assert.False(detector.IsAvailable(last + 6_000));
        detector.Heartbeat(last + 6_000);
        Assert.Equal(count, detector.History.Count);
        Assert.True(detector.IsAvailable(last + 6_000));
        Assert.Equal(last + 6_000, detector.LastHeartbeatMs);
    }

    [Fact]
    public void A_clock_stepping_back_adds_a_zero_interval_instead_of_a_negative_one()
    {
        var (detector, last) = Feed(AkkaDefaults, Steady(3));
        detector.Heartbeat(last - 500);
        Assert.Equal(0L, detector.History.IntervalsMs.Last());
        Assert.True(detector.History.IntervalSumMs > 0);
    }

    [Fact]
    public void The_history_window_keeps_only_the_newest_max_sample_size_intervals()
    {
        var settings = AkkaDefaults with { MaxSampleSize = 3 };
        var (detector, _) = Feed(settings, [900, 1_000, 1_100, 1_300]);
        Assert.Equal([1_000L, 1_100L, 1_300L], detector.History.IntervalsMs);
        Assert.Equal(3_400L, detector.History.IntervalSumMs);
        Assert.Equal((1_000.0 + 1_100 + 1_300) / 3, detector.History.MeanMs, 9);
        var expectedVariance = new[] { 1_000.0, 1_100, 1_300 }.Select(x => Math.Pow(x - detector.History.MeanMs, 2)).Average();
        Assert.Equal(Math.Sqrt(expectedVariance), detector.History.StdDeviationMs, 6);
    }

    [Fact]
    public void Phi_is_zero_before_the_first_heartbeat_and_never_decreases_while_silent()
    {
        var detector = new PhiAccrualDetector(AkkaDefaults);
        Assert.False(detector.IsMonitoring);
        Assert.Equal(0.0, detector.CurrentPhi(1_000_000));
        Assert.True(detector.IsAvailable(1_000_000));
        var (fed, last) = Feed(AkkaDefaults, Jittery(50, 5));
        var previous = 0.0;
        for (var probe = 0L; probe <= 10_000; probe += 5)
        {
            var phi = fed.CurrentPhi(last + probe);
            Assert.True(phi >= previous, $"phi fell from {previous} to {phi} at {probe} ms");
            previous = phi;
        }
        Assert.True(previous > 30, $"phi 10 s after the last heartbeat = {previous}");
    }

    [Fact]
    public void Phi_matches_the_normal_tail_where_the_logistic_approximation_is_accurate()
    {
        // -log10(1 - F(mean + sd)) with the exact normal CDF is -log10(0.158655) = 0.79954.
        Assert.InRange(PhiAccrualDetector.Phi(1_100, 1_000.0, 100.0), 0.79954 - 1e-3, 0.79954 + 1e-3);
        Assert.Equal(-Math.Log10(0.5), PhiAccrualDetector.Phi(1_000, 1_000.0, 100.0), 9);
    }

    [Fact]
    public void Settings_validation_names_each_bad_field()
    {
        var bad = new PhiAccrualSettings
        {
            Threshold = 0, MaxSampleSize = 0, MinStdDeviationMs = 0, AcceptableHeartbeatPauseMs = -1, FirstHeartbeatEstimateMs = 0,
        };
        var errors = bad.Validate();
        Assert.Equal(5, errors.Count);
        foreach (var field in new[] { "Threshold", "MaxSampleSize", "MinStdDeviationMs", "AcceptableHeartbeatPauseMs", "FirstHeartbeatEstimateMs" })
            Assert.Contains(errors, e => e.Contains($"PhiAccrualSettings.{field} "));
        Assert.Empty(AkkaDefaults.Validate());
        var thrown = Assert.Throws<ArgumentException>(() => new PhiAccrualDetector(AkkaDefaults with { Threshold = double.NaN }));
        Assert.Contains("PhiAccrualSettings.Threshold", thrown.Message);
    }
}
