using DistSysActors.Core.FailureDetection;

namespace DistSysActors.Core.Tests.FailureDetection;

public sealed class FixedTimeoutDetectorTests
{
    [Fact]
    public void Available_exactly_while_the_silence_is_at_most_the_timeout()
    {
        var detector = new FixedTimeoutDetector(new FixedTimeoutSettings { TimeoutMs = 3_000 });
        detector.Heartbeat(10_000);
        Assert.True(detector.IsAvailable(10_000));
        Assert.True(detector.IsAvailable(13_000));
        Assert.False(detector.IsAvailable(13_001));
        detector.Heartbeat(13_500);
        Assert.True(detector.IsAvailable(16_500));
        Assert.False(detector.IsAvailable(16_501));
        Assert.Equal(13_500L, detector.LastHeartbeatMs);
        Assert.Null(detector.Phi(16_501));
    }

    [Fact]
    public void A_peer_never_heard_from_is_not_suspected()
    {
        var detector = new FixedTimeoutDetector(new FixedTimeoutSettings { TimeoutMs = 1 });
        Assert.False(detector.IsMonitoring);
        Assert.True(detector.IsAvailable(long.MaxValue));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    [InlineData(FixedTimeoutSettings.TimeoutMsMax + 1)]
    public void Settings_reject_a_timeout_out_of_range_naming_it(long timeoutMs)
    {
        var error = Assert.Throws<ArgumentException>(() => new FixedTimeoutDetector(new FixedTimeoutSettings { TimeoutMs = timeoutMs }));
        Assert.Contains("FixedTimeoutSettings.TimeoutMs", error.Message);
    }
}
