using Akka.Configuration;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core;

namespace DistSysActors.Actors.Tests.Clocks;

public class ClockSettingsTests
{
    private static Config With(string hocon) => ConfigurationFactory.ParseString(hocon).WithFallback(DistSysConfig.Reference);

    [Fact]
    public void Reference_config_yields_the_documented_defaults_and_overrides_apply()
    {
        var defaults = ClockSettings.Create(DistSysConfig.Reference);
        Assert.True(defaults.Enabled);
        Assert.Equal((0L, 0.0, 1, ClockSyncMode.Ntp, 1000, 500L), (defaults.SkewMs, defaults.DriftPpm, defaults.ReferenceNodeId, defaults.Mode,
            defaults.PollIntervalMs, defaults.HlcMaxOffsetMs));
        Assert.Equal(128, defaults.Ntp.Discipline.StepThresholdMs);

        var set = ClockSettings.Create(With("distsys.clock { skew-ms = -300, drift-ppm = 12.5, mode = berkeley, reference-node-id = 2 }"));
        Assert.Equal((-300L, 12.5, ClockSyncMode.Berkeley, 2), (set.SkewMs, set.DriftPpm, set.Mode, set.ReferenceNodeId));
        Assert.Equal(1000, set.Berkeley.RoundIntervalMs);
    }

    [Theory]
    [InlineData("distsys.clock.mode = gps", "distsys.clock.mode")]
    [InlineData("distsys.clock.skew-ms = soon", "distsys.clock.skew-ms")]
    [InlineData("distsys.clock.drift-ppm = 200000", "distsys.clock.drift-ppm")]
    [InlineData("distsys.clock.hlc-max-offset-ms = 0", "distsys.clock.hlc-max-offset-ms")]
    [InlineData("distsys.clock { poll-interval-ms = 100, request-timeout-ms = 200 }", "distsys.clock.request-timeout-ms")]
    [InlineData("distsys.clock.burst-samples = 9", "distsys.clock.burst-samples")]
    public void A_bad_value_fails_fast_naming_its_key(string hocon, string key)
    {
        var error = Assert.Throws<ConfigurationException>(() => ClockSettings.Create(With(hocon)));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void A_reference_node_outside_the_cluster_is_refused()
    {
        var settings = ClockSettings.Create(With("distsys.clock.reference-node-id = 4"));
        var error = Assert.Throws<ConfigurationException>(() => settings.CheckReference([new NodeId(1), new NodeId(2), new NodeId(3)]));
        Assert.Contains("distsys.clock.reference-node-id", error.Message);
        settings.CheckReference([new NodeId(4)]);
    }
}
