using Akka.Configuration;
using DistSysActors.Actors.Configuration;

namespace DistSysActors.Actors.Tests.Configuration;

public class SettingsTests
{
    private static Config With(string hocon) => ConfigurationFactory.ParseString(hocon).WithFallback(DistSysConfig.Reference);

    [Fact]
    public void Reference_config_yields_the_documented_defaults()
    {
        var node = NodeSettings.Create(DistSysConfig.Reference);
        Assert.Equal(new NodeSettings(1, 1, "127.0.0.1", 4050, 8080, "data", true), node);
        Assert.Equal(1000, PingSettings.Create(DistSysConfig.Reference).IntervalMs);
        Assert.Equal("sqlite", HostSettings.Create(DistSysConfig.Reference).Journal);
        Assert.Equal(100_000, NetworkSettings.Create(DistSysConfig.Reference).DelayedMessagesMax);
    }

    [Theory]
    [InlineData("distsys.node.id = abc", "distsys.node.id")]
    [InlineData("distsys.node.nodes = 0", "distsys.node.nodes")]
    [InlineData("distsys.node.base-port = -1", "distsys.node.base-port")]
    [InlineData("distsys.node { nodes = 3, id = 4 }", "distsys.node.id")]
    [InlineData("distsys.ping.interval-ms = 1", "distsys.ping.interval-ms")]
    [InlineData("distsys.persistence.journal = postgres", "distsys.persistence.journal")]
    [InlineData("distsys.network.delayed-messages-max = 0", "distsys.network.delayed-messages-max")]
    [InlineData("distsys.network.throttle-reconcile-ms = -1", "distsys.network.throttle-reconcile-ms")]
    public void A_bad_value_fails_fast_naming_its_key(string hocon, string key)
    {
        var config = With(hocon);
        var error = Assert.Throws<ConfigurationException>(() =>
        {
            NodeSettings.Create(config);
            PingSettings.Create(config);
            HostSettings.Create(config);
            NetworkSettings.Create(config);
        });
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Node_ports_and_data_dir_follow_the_node_id()
    {
        var node = NodeSettings.Create(With("distsys.node { id = 3, nodes = 5, base-port = 5000, http-base-port = 9000, data-dir = \"/tmp/d\" }"));
        Assert.Equal(5003, node.RemotePortOf(node.Id));
        Assert.Equal(9003, node.HttpPortOf(node.Id));
        Assert.Equal(Path.Combine("/tmp/d", "node-3"), node.NodeDataDir);
    }

    [Theory]
    [InlineData("distsys.node.id", true)]
    [InlineData("distsys.ping.interval-ms", true)]
    [InlineData("distsys.node", false)]
    [InlineData("distsys.node.colour", false)]
    public void Known_keys_are_the_reference_leaves(string key, bool known) => Assert.Equal(known, DistSysConfig.IsKnownKey(key));

    [Fact]
    public void Every_embedded_overlay_parses()
    {
        Assert.Equal("cluster", DistSysConfig.NodeOverlay.GetString("akka.actor.provider"));
        Assert.Equal("keep-majority", DistSysConfig.NodeOverlay.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal("memory", DistSysConfig.TestOverlay.GetString("distsys.persistence.journal"));
    }
}
