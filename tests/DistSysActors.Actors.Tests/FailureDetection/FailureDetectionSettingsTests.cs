using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.FailureDetection;
using DistSysActors.Core.FailureDetection;

namespace DistSysActors.Actors.Tests.FailureDetection;

public class FailureDetectionSettingsTests
{
    private static Config With(string hocon) => ConfigurationFactory.ParseString(hocon).WithFallback(DistSysConfig.Reference);

    [Fact]
    public void Reference_config_yields_phi_with_a_500_ms_interval_and_akkas_other_defaults()
    {
        var settings = FailureDetectionSettings.Create(DistSysConfig.Reference);
        Assert.True(settings.Enabled);
        Assert.Equal(100, settings.TickMs);
        Assert.Equal(500, settings.Heartbeat.HeartbeatIntervalMs);
        Assert.Equal(9, settings.Heartbeat.MonitoredByCount);
        Assert.Equal(new PhiAccrualSettings { Threshold = 8, MaxSampleSize = 1000, MinStdDeviationMs = 100, AcceptableHeartbeatPauseMs = 3000, FirstHeartbeatEstimateMs = 500 },
            settings.Heartbeat.Detector);
    }

    [Fact]
    public void Fixed_detector_takes_its_timeout()
    {
        var settings = FailureDetectionSettings.Create(With("distsys.failure-detector { detector = fixed, fixed-timeout-ms = 2500 }"));
        Assert.Equal(new FixedTimeoutSettings { TimeoutMs = 2500 }, settings.Heartbeat.Detector);
        Assert.Equal("fixed", settings.Detector);
    }

    [Theory]
    [InlineData("distsys.failure-detector.detector = gossip", "distsys.failure-detector.detector")]
    [InlineData("distsys.failure-detector.threshold = 0", "distsys.failure-detector.threshold")]
    [InlineData("distsys.failure-detector.threshold = abc", "distsys.failure-detector.threshold")]
    [InlineData("distsys.failure-detector.heartbeat-interval-ms = 0", "distsys.failure-detector.heartbeat-interval-ms")]
    [InlineData("distsys.failure-detector.monitored-by = 0", "distsys.failure-detector.monitored-by")]
    [InlineData("distsys.failure-detector.tick-ms = 0", "distsys.failure-detector.tick-ms")]
    [InlineData("distsys.failure-detector.min-std-deviation-ms = 0", "distsys.failure-detector.min-std-deviation-ms")]
    [InlineData("distsys.failure-detector { detector = fixed, fixed-timeout-ms = -1 }", "distsys.failure-detector.fixed-timeout-ms")]
    public void A_bad_value_fails_fast_naming_its_key(string hocon, string key)
    {
        var error = Assert.Throws<ConfigurationException>(() => FailureDetectionSettings.Create(With(hocon)));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Every_key_is_known_to_the_reference_config_so_node_set_accepts_it()
    {
        foreach (var key in new[] { "enabled", "heartbeat-interval-ms", "monitored-by", "detector", "threshold", "max-sample-size",
                     "min-std-deviation-ms", "acceptable-heartbeat-pause-ms", "first-heartbeat-estimate-ms", "fixed-timeout-ms", "tick-ms" })
            Assert.True(DistSysConfig.IsKnownKey($"{FailureDetectionSettings.Section}.{key}"), key);
    }
}
