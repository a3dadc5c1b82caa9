using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.ReliableDelivery;

namespace DistSysActors.Actors.Tests.ReliableDelivery;

public sealed class DeliverySettingsTests
{
    [Fact]
    public void Reference_config_yields_the_documented_defaults()
    {
        Assert.Equal(new DeliverySettings(300, 1000, 10_000, 10_000, 255, 10_000, 1000, 1000), DeliverySettings.Create(DistSysConfig.Reference));
    }

    [Theory]
    [InlineData("distsys.delivery.redeliver-interval-ms = 0", "distsys.delivery.redeliver-interval-ms")]
    [InlineData("distsys.delivery.outbox-max = -1", "distsys.delivery.outbox-max")]
    [InlineData("distsys.delivery.dedup-ids-max = many", "distsys.delivery.dedup-ids-max")]
    [InlineData("distsys.delivery.snapshot-every-events = 0", "distsys.delivery.snapshot-every-events")]
    public void A_bad_value_fails_fast_naming_its_key(string hocon, string key)
    {
        var config = ConfigurationFactory.ParseString(hocon).WithFallback(DistSysConfig.Reference);
        Assert.Contains(key, Assert.Throws<ConfigurationException>(() => DeliverySettings.Create(config)).Message);
    }
}
