using System.Reflection;
using DistSysActors.Core;
using DistSysActors.Core.FailureDetection;
using Xunit.Abstractions;
using AkkaPhiAccrualFailureDetector = Akka.Remote.PhiAccrualFailureDetector;

namespace DistSysActors.Actors.Tests.FailureDetection;

/// <summary>
/// Our phi accrual detector against Akka.Remote's, both driven by one scripted clock: the same heartbeat
/// arrival times and settings must give the same phi (within 1e-6) and the same verdict at every probe.
/// </summary>
public sealed class PhiAccrualAgreesWithAkkaTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-6;

    // Akka exposes phi only internally; reading it is the point of the comparison.
    private static readonly PropertyInfo AkkaCurrentPhi =
        typeof(AkkaPhiAccrualFailureDetector).GetProperty("CurrentPhi", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("Akka.Remote.PhiAccrualFailureDetector.CurrentPhi not found");

    private static readonly long[] ProbeOffsetsMs = [0, 1, 100, 300, 330, 345, 360, 380, 400, 500, 999, 1_000, 1_200, 2_000, 2_500, 3_000, 3_500, 4_000, 4_250, 4_500, 4_523, 4_600, 5_000, 5_500, 6_000, 8_000, 12_000];

    public static TheoryData<string> Scenarios => new() { "steady", "jittery", "pauses", "suspected-gaps", "small-window", "tight" };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Phi_matches_akka_remote_within_1e_6_at_every_probe(string scenario)
    {
        const long seed = 20261125;
        var (settings, intervals) = Build(scenario, seed);
        long clockMs = 0;
        var akka = new AkkaPhiAccrualFailureDetector(
            settings.Threshold,
            settings.MaxSampleSize,
            TimeSpan.FromMilliseconds(settings.MinStdDeviationMs),
            TimeSpan.FromMilliseconds(settings.AcceptableHeartbeatPauseMs),
            TimeSpan.FromMilliseconds(settings.FirstHeartbeatEstimateMs),
            () => clockMs);
        var ours = new PhiAccrualDetector(settings);

        var probes = 0;
        var suspectedProbes = 0;
        var maxDifference = 0.0;
        void Compare(long atMs)
        {
            clockMs = atMs;
            var akkaPhi = (double)AkkaCurrentPhi.GetValue(akka)!;
            var ourPhi = ours.CurrentPhi(atMs);
            probes++;
            var context = $"scenario {scenario}, seed {seed}, t={atMs} ms";
            if (double.IsPositiveInfinity(akkaPhi)) Assert.True(double.IsPositiveInfinity(ourPhi), $"{context}: akka ∞, ours {ourPhi}");
            else
            {
                var difference = Math.Abs(ourPhi - akkaPhi);
                maxDifference = Math.Max(maxDifference, difference);
                Assert.True(difference <= Tolerance, $"{context}: ours {ourPhi}, akka {akkaPhi}");
            }
            if (!akka.IsAvailable) suspectedProbes++;
            Assert.True(akka.IsAvailable == ours.IsAvailable(atMs), $"{context}: akka available {akka.IsAvailable}, ours {ours.IsAvailable(atMs)}");
        }

        Compare(0); // before any heartbeat both report 0
        var now = 1_000L;
        for (var i = 0; i <= intervals.Length; i++)
        {
            clockMs = now;
            akka.HeartBeat();
            ours.Heartbeat(now);
            var next = i < intervals.Length ? intervals[i] : long.MaxValue;
            foreach (var offset in ProbeOffsetsMs.Where(o => o < next)) Compare(now + offset);
            if (i < intervals.Length) now += next;
        }
        Assert.True(akka.IsMonitoring && ours.IsMonitoring);
        // Both verdicts must have been compared, not only the healthy one.
        Assert.True(suspectedProbes > 0 && suspectedProbes < probes, $"scenario {scenario}: {suspectedProbes} of {probes} probes suspected");
        output.WriteLine($"{scenario}: {intervals.Length + 1} heartbeats, {probes} probes ({suspectedProbes} suspected), max |phi ours - phi akka| = {maxDifference:E2}");
    }

    [Fact]
    public void Phi_matches_akka_remote_for_random_settings_and_arrivals()
    {
        const int runs = 40;
        var probes = 0;
        for (var seed = 1L; seed <= runs; seed++)
        {
            var random = new DeterministicRandom(seed);
            var settings = new PhiAccrualSettings
            {
                Threshold = 1 + random.NextDouble() * 15,
                MaxSampleSize = random.NextInt(1, 200),
                MinStdDeviationMs = random.NextInt(1, 500),
                AcceptableHeartbeatPauseMs = random.NextInt(0, 5_000),
                FirstHeartbeatEstimateMs = random.NextInt(1, 3_000),
            };
            long clockMs = 0;
            var akka = new AkkaPhiAccrualFailureDetector(settings.Threshold, settings.MaxSampleSize,
                TimeSpan.FromMilliseconds(settings.MinStdDeviationMs), TimeSpan.FromMilliseconds(settings.AcceptableHeartbeatPauseMs),
                TimeSpan.FromMilliseconds(settings.FirstHeartbeatEstimateMs), () => clockMs);
            var ours = new PhiAccrualDetector(settings);
            var now = 0L;
            for (var i = 0; i < 150; i++)
            {
                now += random.Chance(0.05) ? random.NextInt(2_000, 20_000) : random.NextInt(0, 2_000);
                clockMs = now;
                akka.HeartBeat();
                ours.Heartbeat(now);
                for (var p = 0; p < 5; p++)
                {
                    clockMs = now + random.NextInt(0, 15_000);
                    var akkaPhi = (double)AkkaCurrentPhi.GetValue(akka)!;
                    var ourPhi = ours.CurrentPhi(clockMs);
                    probes++;
                    Assert.True(akkaPhi.Equals(ourPhi) || Math.Abs(ourPhi - akkaPhi) <= Tolerance,
                        $"seed {seed}, {settings}, t={clockMs} ms: ours {ourPhi}, akka {akkaPhi}");
                    Assert.True(akka.IsAvailable == ours.IsAvailable(clockMs), $"seed {seed}, t={clockMs} ms: verdicts differ");
                }
            }
        }
        output.WriteLine($"{runs} random settings, {probes} probes: all within {Tolerance}");
    }

    private static (PhiAccrualSettings Settings, long[] IntervalsMs) Build(string scenario, long seed)
    {
        var random = new DeterministicRandom(seed);
        var defaults = new PhiAccrualSettings();
        long[] Jitter(int count, int spreadMs) => Enumerable.Range(0, count).Select(_ => 1_000L + random.NextInt(-spreadMs, spreadMs + 1)).ToArray();
        return scenario switch
        {
            "steady" => (defaults, Enumerable.Repeat(1_000L, 200).ToArray()),
            "jittery" => (defaults, Jitter(400, 200)),
            // Occasional pauses inside the acceptable pause: they enter the history and widen it.
            "pauses" => (defaults, Jitter(300, 100).Select((x, i) => i % 37 == 36 ? 2_500 + x % 700 : x).ToArray()),
            // Gaps long enough to be suspected: the next heartbeat must be left out of the history by both.
            "suspected-gaps" => (defaults, Jitter(200, 150).Select((x, i) => i % 29 == 28 ? 7_000 + x : x).ToArray()),
            // A window of 5 exercises eviction; a lower threshold and pause change every term of the formula.
            "small-window" => (defaults with { MaxSampleSize = 5, Threshold = 3.0, AcceptableHeartbeatPauseMs = 500 }, Jitter(300, 300)),
            "tight" => (defaults with { Threshold = 12.5, MinStdDeviationMs = 7, AcceptableHeartbeatPauseMs = 0, FirstHeartbeatEstimateMs = 333 },
                Jitter(300, 40).Select(x => x / 3).ToArray()),
            _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, null),
        };
    }
}
