using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Hosting;
using DistSysActors.Node.Commands;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>`distsys node --hostname --public-hostname --port --http-port --seed`: the settings and the akka.* configuration they give.</summary>
public class MultiHostCommandLineTests
{
    private static readonly string[] Seeds = ["akka.tcp://distsys@10.0.0.1:4051", "akka.tcp://distsys@10.0.0.2:4051", "akka.tcp://distsys@10.0.0.3:4051"];

    private static Config Build(int id, params string[] extra) =>
        NodeCommand.BuildConfig(id, 3, 4050, 8080, Path.GetTempPath(),
            [$"distsys.node.seeds=[{string.Join(", ", Seeds.Select(s => $"\"{s}\""))}]", "distsys.node.hostname=\"0.0.0.0\"",
             $"distsys.node.public-hostname=\"10.0.0.{id}\"", "distsys.node.port=4051", "distsys.node.http-port=8081",
             "distsys.persistence.journal=memory", .. extra]).WithFallback(DistSysConfig.Reference);

    [Fact]
    public void Seeds_replace_the_port_plan_and_remoting_binds_where_told_and_is_reached_at_the_public_hostname()
    {
        var config = Build(2);
        var node = NodeSettings.Create(config);
        Assert.True(node.UsesSeeds);
        Assert.Equal((4051, 8081, "10.0.0.2"), (node.SelfRemotePort, node.SelfHttpPort, node.AdvertisedHostname));
        var akka = DistSysNodeRuntime.NodeConfig(config, joinOthersOnly: false);
        Assert.Equal(Seeds, akka.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal("0.0.0.0", akka.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal("10.0.0.2", akka.GetString("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.Equal(4051, akka.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["node-2", "http=http://10.0.0.2:8081"], akka.GetStringList("akka.cluster.roles"));
    }

    [Fact]
    public void A_rejoining_node_leaves_its_own_address_out_of_the_seeds_and_only_the_first_seed_forms_a_cluster()
    {
        var akka = DistSysNodeRuntime.NodeConfig(Build(1), joinOthersOnly: true);
        Assert.Equal(Seeds[1..], akka.GetStringList("akka.cluster.seed-nodes"));
        Assert.True(DistSysNodeRuntime.IsFirstSeed(Build(1)));
        Assert.False(DistSysNodeRuntime.IsFirstSeed(Build(2)));
    }

    [Fact]
    public void Seeds_take_the_scheme_of_the_nodes_transport()
    {
        var config = Build(3).WithFallback(DistSysConfig.NodeOverlay);
        var akka = DistSysNodeRuntime.NodeConfig(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.applied-adapters = [trttl]").WithFallback(config), joinOthersOnly: false);
        Assert.All(akka.GetStringList("akka.cluster.seed-nodes"), s => Assert.StartsWith("akka.trttl.tcp://distsys@10.0.0.", s));
    }

    [Fact]
    public void Without_seeds_the_port_plan_stays_the_default_and_an_explicit_port_is_this_nodes_own()
    {
        var config = NodeCommand.BuildConfig(2, 3, 34050, 38080, Path.GetTempPath(), ["distsys.persistence.journal=memory", "distsys.node.port=35000"])
            .WithFallback(DistSysConfig.Reference);
        var akka = DistSysNodeRuntime.NodeConfig(config, joinOthersOnly: false);
        Assert.Equal(["akka.tcp://distsys@127.0.0.1:34051", "akka.tcp://distsys@127.0.0.1:35000", "akka.tcp://distsys@127.0.0.1:34053"],
            akka.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(38082, NodeSettings.Create(config).SelfHttpPort);
    }

    [Fact]
    public void With_tls_the_seeds_take_the_ssl_scheme()
    {
        var config = ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp { applied-adapters = [trttl], enable-ssl = on }").WithFallback(Build(1));
        Assert.Equal("akka.trttl.ssl.tcp", DistSysNodeRuntime.AddressProtocol(config));
        Assert.All(DistSysNodeRuntime.NodeConfig(config, joinOthersOnly: false).GetStringList("akka.cluster.seed-nodes"),
            s => Assert.StartsWith("akka.trttl.ssl.tcp://distsys@10.0.0.", s));
    }

    [Theory]
    [InlineData("\"http://10.0.0.1:4051\"", "has the scheme 'http', not akka.tcp")]
    [InlineData("\"akka.tcp://other@10.0.0.1:4051\"", "names the actor system 'other', not distsys")]
    [InlineData("\"akka.tcp://distsys@10.0.0.1\"", "has no host and port")]
    [InlineData("\"10.0.0.1:4051\"", "is not an actor system address")]
    public void A_bad_seed_fails_at_start_naming_the_key_and_a_valid_form(string seed, string problem)
    {
        var e = Assert.Throws<CommandException>(() => NodeCommand.BuildConfig(1, 3, 4050, 8080, Path.GetTempPath(), [$"distsys.node.seeds=[{seed}]"]));
        Assert.Contains("distsys.node.seeds", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Contains("akka.tcp://distsys@10.0.0.1:4051", e.Message);
    }

    [Fact]
    public async Task The_node_command_refuses_a_port_outside_0_to_65535()
    {
        var (code, text) = await Processes.ProcessCluster.RunCliAsync(["node", "--id", "1", "--nodes", "1", "--port", "70000"]);
        Assert.NotEqual(0, code);
        Assert.Contains("--port must be between 0 and 65535, was 70000", text);
    }
}
