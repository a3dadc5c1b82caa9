using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.Hosting;
using DistSysActors.Core;
using DistSysActors.Node.Commands;
using DistSysActors.Node.Http;
using DistSysActors.Node.Tests.Processes;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>`distsys members`, `distsys raft transfer`, `distsys node --join`: argument checks, the admin request bodies, the join port plan.</summary>
public class MembershipCommandLineTests
{
    private static Task<(int Code, string Out)> RunAsync(params string[] args) => ProcessCluster.RunCliAsync(args);

    [Theory]
    [InlineData("a new server joining a running cluster needs --join", "node", "--id", "4", "--nodes", "3")]
    [InlineData("--id must be between 1 and 99 with --join, was 100", "node", "--id", "100", "--nodes", "3", "--join")]
    [InlineData("the node id must be between 1 and 99, was 0", "members", "add", "0")]
    [InlineData("the node id must be between 1 and 99, was 100", "members", "remove", "100")]
    [InlineData("Cannot parse argument 'x'", "members", "add", "x")]
    [InlineData("--to must be between 1 and 99, was 0", "raft", "transfer", "--to", "0")]
    [InlineData("Required argument missing", "members", "add")]
    // Nothing listens on 38099 (the http port of node 4 on this base): one line, exit 1.
    [InlineData("node 4 did not answer", "members", "list", "--node", "4", "--http-base-port", "38095")]
    [InlineData("node 4 did not answer", "raft", "transfer", "--node", "4", "--http-base-port", "38095")]
    public async Task Invalid_arguments_exit_non_zero_with_a_clear_message(string expected, params string[] args)
    {
        var (code, text) = await RunAsync(args);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, text);
    }

    [Theory]
    [InlineData("members")]
    [InlineData("raft")]
    public async Task Every_command_has_help(string command)
    {
        var (code, text) = await RunAsync(command, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Usage:", text);
    }

    [Fact]
    public async Task Node_help_documents_join()
    {
        var (code, text) = await RunAsync("node", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--join", text);
    }

    [Theory]
    [InlineData("""{"nodeId": 4}""", 4)]
    [InlineData("""{ "nodeId" : 99 }""", 99)]
    public void Add_body_names_one_node_id(string body, int expected)
    {
        var (id, error) = AdminHttpApi.ParseNodeField(body, "nodeId", required: true);
        Assert.Null(error);
        Assert.Equal(expected, id);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("{}", true)]
    [InlineData("""{"nodeId": null}""", true)]
    [InlineData("""{"nodeId": "4"}""", true)]
    [InlineData("""{"nodeId": 4.5}""", true)]
    [InlineData("""{"nodeId": 0}""", true)]
    [InlineData("""{"nodeId": 100}""", true)]
    [InlineData("""{"nodeId": 4, "voter": true}""", true)]
    [InlineData("[4]", true)]
    [InlineData("{nodeId: 4", true)]
    [InlineData("""{"to": -1}""", false)]
    [InlineData("""{"too": 2}""", false)]
    public void Bad_admin_bodies_answer_400(string body, bool required)
    {
        var (id, error) = AdminHttpApi.ParseNodeField(body, required ? "nodeId" : "to", required);
        Assert.Null(id);
        Assert.Equal(400, Assert.IsAssignableFrom<IStatusCodeHttpResult>(error).StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("""{"to": null}""")]
    public void Transfer_without_a_target_picks_the_best_follower(string body)
    {
        var (to, error) = AdminHttpApi.ParseNodeField(body, "to", required: false);
        Assert.Null(error);
        Assert.Null(to);
    }

    [Fact]
    public void A_joining_node_seeds_through_the_founding_nodes_only_and_reaches_any_id_of_the_port_plan()
    {
        var config = NodeCommand.BuildConfig(5, 3, 34050, 38080, Path.GetTempPath(), ["distsys.persistence.journal=memory"], join: true)
            .WithFallback(DistSysConfig.Reference);
        var node = NodeSettings.Create(config);
        Assert.True(node.Join);
        var akka = DistSysNodeRuntime.NodeConfig(config, joinOthersOnly: false);
        Assert.Equal(["akka.tcp://distsys@127.0.0.1:34051", "akka.tcp://distsys@127.0.0.1:34052", "akka.tcp://distsys@127.0.0.1:34053"],
            akka.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal([1, 2, 3, 5], DistSysNodeRuntime.PeersFromPorts(node, "akka.tcp").Keys.Select(k => k.Value));
        var resolve = DistSysNodeRuntime.ResolverFromPorts(node, "akka.tcp");
        Assert.Equal(34050 + 42, resolve(new NodeId(42))!.Port);
        Assert.Null(resolve(new NodeId(NodeSettings.NodesMax + 1)));
    }

    [Fact]
    public void A_founding_node_id_with_join_never_seeds_itself()
    {
        var config = NodeCommand.BuildConfig(2, 3, 34050, 38080, Path.GetTempPath(), ["distsys.persistence.journal=memory"], join: true)
            .WithFallback(DistSysConfig.Reference);
        var akka = DistSysNodeRuntime.NodeConfig(config, joinOthersOnly: false);
        Assert.Equal(["akka.tcp://distsys@127.0.0.1:34051", "akka.tcp://distsys@127.0.0.1:34053"], akka.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void Settings_refuse_an_id_above_nodes_without_join()
    {
        var config = ConfigurationFactory.ParseString("distsys.node { id = 4, nodes = 3 }").WithFallback(DistSysConfig.Reference);
        var e = Assert.Throws<ConfigurationException>(() => NodeSettings.Create(config));
        Assert.Contains("distsys.node.join = on", e.Message);
    }

    [Fact]
    public void Members_table_marks_the_leader_and_hides_progress_a_follower_does_not_know()
    {
        var text = MembersCommand.Render(new MembersDto([new(1, true, 12, 0), new(4, false, 3, 9)], 1, 12));
        Assert.Contains("1     voter    12       0   (leader)", text);
        Assert.Contains("4     learner  3        9", text);
        Assert.Contains("-", MembersCommand.Render(new MembersDto([new(2, true, 0, -1)], 1, 12)));
        Assert.Equal("HTTP 409: node 4 is already a member", MembersCommand.ErrorLine(409, """{"error":"node 4 is already a member"}"""));
        Assert.Contains("outcome unknown", MembersCommand.ErrorLine(503, """{"error":"x","outcome":"unknown"}"""));
    }
}
