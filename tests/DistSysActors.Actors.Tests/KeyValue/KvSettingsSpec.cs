using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.Raft;

namespace DistSysActors.Actors.Tests.KeyValue;

/// <summary>The key-value service's settings come from the keys they always had (distsys.raft.*, distsys.idempotency.*).</summary>
public sealed class KvSettingsSpec
{
    private static Config With(string hocon) => ConfigurationFactory.ParseString(hocon).WithFallback(DistSysConfig.Reference);

    [Fact]
    public void Reference_config_yields_the_documented_defaults()
    {
        var s = KvSettings.Create(DistSysConfig.Reference);
        Assert.Equal((65_536, 1_024, 10_000, 10_000), (s.ValueBytesMax, s.KeyBytesMax, s.SessionsMax, s.PendingRequestsMax));
        Assert.Equal(new IdempotencySettings(86_400_000, 100_000, 10_000), s.Idempotency);
        Assert.Equal(s, RaftSettings.Create(DistSysConfig.Reference).Kv);
    }

    [Fact]
    public void Overrides_are_read_from_the_raft_and_idempotency_sections()
    {
        var s = KvSettings.Create(With("""
            distsys.raft { value-bytes-max = 100, key-bytes-max = 10, sessions-max = 3, pending-requests-max = 4 }
            distsys.idempotency { ttl-ms = 5, records-max = 6, leader-clock-interval-ms = 70 }
            """));
        Assert.Equal(new KvSettings(100, 10, 3, 4) { Idempotency = new IdempotencySettings(5, 6, 70) }, s);
    }

    [Fact]
    public void Session_wait_is_read_from_the_kv_section_with_a_one_second_default()
    {
        Assert.Equal(1_000, KvSettings.Create(DistSysConfig.Reference).SessionWaitMs);
        Assert.Equal(250, KvSettings.Create(With("distsys.kv.session-wait-ms = 250")).SessionWaitMs);
        Assert.Equal(0, KvSettings.Create(With("distsys.kv.session-wait-ms = 0")).SessionWaitMs);
    }

    [Theory]
    [InlineData("distsys.raft.value-bytes-max = 70000", "distsys.raft.value-bytes-max")]
    [InlineData("distsys.raft.key-bytes-max = 0", "distsys.raft.key-bytes-max")]
    [InlineData("distsys.raft.sessions-max = 0", "distsys.raft.sessions-max")]
    [InlineData("distsys.raft.pending-requests-max = none", "distsys.raft.pending-requests-max")]
    [InlineData("distsys.idempotency.ttl-ms = 0", "distsys.idempotency.ttl-ms")]
    [InlineData("distsys.idempotency.records-max = 0", "distsys.idempotency.records-max")]
    [InlineData("distsys.idempotency.leader-clock-interval-ms = 1", "distsys.idempotency.leader-clock-interval-ms")]
    [InlineData("distsys.kv.session-wait-ms = -1", "distsys.kv.session-wait-ms")]
    [InlineData("distsys.kv.session-wait-ms = soon", "distsys.kv.session-wait-ms")]
    public void A_bad_value_fails_fast_naming_its_key(string hocon, string key)
    {
        var error = Assert.Throws<ConfigurationException>(() => KvSettings.Create(With(hocon)));
        Assert.Contains(key, error.Message);
    }
}
