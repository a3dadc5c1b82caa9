using System.Text.Json;
using DistSysActors.Node.Client;
using DistSysActors.Node.Commands;
using DistSysActors.Node.Http;
using DistSysActors.Node.Tests.Processes;

namespace DistSysActors.Node.Tests.Cli;

/// <summary>`--endpoint URL` / DISTSYS_ENDPOINT: which values are endpoints, and the node id → address map a /status gives.</summary>
public class EndpointCommandLineTests
{
    /// <summary>A /status body as node 2 on host 10.0.0.2 answers it: node 3 restarted (its old incarnation is Down), node 4 carries no address.</summary>
    private const string StatusBody = """
        {
          "nodeId": 2, "address": "akka.tcp://distsys@10.0.0.2:4051", "nodes": 3, "incarnation": 1, "restarts": 0, "selfStatus": "Up",
          "members": [
            { "nodeId": 1, "address": "akka.tcp://distsys@10.0.0.1:4051", "status": "Up", "reachable": true, "http": "http://10.0.0.1:8081" },
            { "nodeId": 2, "address": "akka.tcp://distsys@10.0.0.2:4051", "status": "Up", "reachable": true, "http": "http://0.0.0.0:8081" },
            { "nodeId": 3, "address": "akka.tcp://distsys@10.0.0.3:4051", "status": "Down", "reachable": false, "http": "http://10.0.0.3:9999" },
            { "nodeId": 3, "address": "akka.tcp://distsys@10.0.0.3:4052", "status": "Up", "reachable": true, "http": "http://10.0.0.3:8081" },
            { "nodeId": 4, "address": "akka.tcp://distsys@10.0.0.4:4051", "status": "Up", "reachable": true, "http": null },
            { "nodeId": null, "address": "akka.tcp://distsys@10.0.0.9:4051", "status": "Up", "reachable": true }
          ],
          "network": { "faults": { "partitions": [], "dropRate": 0, "delayMs": [0, 0], "duplicateRate": 0, "reorder": false, "seed": null }, "seed": 1,
                       "counters": { "sent": 0, "delivered": 0, "droppedByPartition": 0, "dropped": 0, "delayed": 0, "duplicated": 0,
                                     "receivedDelivered": 0, "receivedDroppedByPartition": 0, "unroutable": 0, "overflowDropped": 0, "delayedNow": 0 } },
          "ping": [], "raft": null
        }
        """;

    private static readonly Uri Endpoint = new("http://node2.example:8081");

    private static StatusDto Status() => JsonSerializer.Deserialize<StatusDto>(StatusBody, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;

    [Theory]
    [InlineData("http://10.0.0.1:8081")]
    [InlineData("http://10.0.0.1:8081/")]
    [InlineData("https://node1.example")]
    [InlineData("http://[::1]:8081")]
    [InlineData(" http://10.0.0.1:8081 ")]
    public void An_absolute_http_or_https_url_with_nothing_after_the_port_is_an_endpoint(string text)
    {
        Assert.Null(NodeEndpoints.Problem(text));
        Assert.Equal(text.Trim().TrimEnd('/') + "/", NodeEndpoints.Parse(text, NodeEndpoints.OptionName).ToString());
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("10.0.0.1:8081", "has no scheme")]
    [InlineData("localhost:8081", "has no scheme")]
    [InlineData("ftp://10.0.0.1:8081", "has the scheme 'ftp'")]
    [InlineData("akka.tcp://distsys@10.0.0.1:4051", "has the scheme 'akka.tcp'")]
    [InlineData("http://10.0.0.1:8081/status", "has a path, query or fragment")]
    [InlineData("http://10.0.0.1:8081?x=1", "has a path, query or fragment")]
    [InlineData("http://admin:secret@10.0.0.1:8081", "carries user information")]
    [InlineData("http://10.0.0.1:99999", "is not a valid URL")]
    public void Anything_else_fails_naming_the_option_a_valid_form_and_the_problem(string text, string problem)
    {
        var e = Assert.Throws<CommandException>(() => NodeEndpoints.From(text, null));
        Assert.StartsWith("--endpoint must be ", e.Message);
        Assert.Contains(NodeEndpoints.Example, e.Message);
        Assert.Contains($"'{text}' {problem}", e.Message);
    }

    [Fact]
    public void The_option_wins_over_the_environment_variable_which_an_empty_value_leaves_unset()
    {
        Assert.Equal((new Uri("http://10.0.0.1:8081"), "--endpoint"), From("http://10.0.0.1:8081", "http://10.0.0.2:8081"));
        Assert.Equal((new Uri("http://10.0.0.2:8081"), "DISTSYS_ENDPOINT"), From(null, "http://10.0.0.2:8081"));
        Assert.False(NodeEndpoints.From(null, "  ").IsSet);
        Assert.False(NodeEndpoints.From(null, null).IsSet);
        Assert.StartsWith("DISTSYS_ENDPOINT must be ", Assert.Throws<CommandException>(() => NodeEndpoints.From(null, "10.0.0.2")).Message);

        static (Uri?, string) From(string? option, string? environment)
        {
            var e = NodeEndpoints.From(option, environment);
            return (e.Endpoint, e.Source);
        }
    }

    [Fact]
    public void The_endpoints_own_node_is_the_endpoint_itself_and_each_other_member_its_announced_address()
    {
        var map = NodeEndpoints.MapFrom(Endpoint, Status());
        Assert.Equal(new Dictionary<int, Uri>
        {
            [1] = new("http://10.0.0.1:8081"),
            // Node 2 announces its bind address; the user reached it at the endpoint.
            [2] = Endpoint,
            // The Up incarnation, not the Down one listed first.
            [3] = new("http://10.0.0.3:8081"),
        }, map);
    }

    [Fact]
    public void Clients_go_to_the_resolved_addresses_and_an_id_the_cluster_does_not_list_fails_naming_it_and_the_endpoint()
    {
        var endpoints = NodeEndpoints.Known(Endpoint, NodeEndpoints.OptionName, Status());
        Assert.Equal(new[] { 1, 2, 3 }, endpoints.Ids(Status() with { Nodes = 9 }));
        using (var c = endpoints.Create(3, httpBasePort: 8080)) Assert.Equal((3, new Uri("http://10.0.0.3:8081")), (c.NodeId, c.BaseAddress));
        using (var c = endpoints.Create(2, httpBasePort: 8080)) Assert.Equal(Endpoint, c.BaseAddress);

        var unknown = Assert.Throws<CommandException>(() => endpoints.Create(7, 8080));
        Assert.Contains("node 7 is not a member of the cluster at http://node2.example:8081 (--endpoint)", unknown.Message);
        var noAddress = Assert.Throws<CommandException>(() => endpoints.Create(4, 8080));
        Assert.Contains("node 4 is a member of the cluster at http://node2.example:8081 (--endpoint) but announces no HTTP address", noAddress.Message);
    }

    [Fact]
    public void Without_an_endpoint_clients_follow_the_port_plan()
    {
        using var c = NodeEndpoints.PortPlan.Create(3, httpBasePort: 8080);
        Assert.Equal(new Uri("http://127.0.0.1:8083"), c.BaseAddress);
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, NodeEndpoints.PortPlan.Ids(Status() with { Nodes = 5 }));
    }

    [Fact]
    public void The_session_file_is_one_per_endpoint_cluster()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (Environment.GetEnvironmentVariable(SessionToken.EnvironmentVariable) is { Length: > 0 }) return;
        Assert.Equal(Path.Combine(home, ".distsys", "session-8080"), SessionToken.PathOf(null, 8080));
        Assert.Equal(Path.Combine(home, ".distsys", "session-10.0.0.1-8081"), SessionToken.PathOf(null, 8080, new Uri("http://10.0.0.1:8081")));
    }

    /// <summary>Through the CLI: one line on standard error naming the option (or variable) and a valid form, exit 1.</summary>
    [Theory]
    [InlineData("--endpoint must be", "--endpoint", "10.0.0.1:8081", "status")]
    [InlineData("--endpoint must be", "kv", "get", "k", "--endpoint", "ftp://10.0.0.1")]
    [InlineData("--endpoint and --http-base-port cannot be combined", "fault", "heal", "--endpoint", "http://127.0.0.1:1", "--http-base-port", "9000")]
    [InlineData("--endpoint is for client commands", "local", "--endpoint", "http://127.0.0.1:1")]
    public async Task A_bad_endpoint_fails_before_anything_is_sent(string expected, params string[] args)
    {
        var (code, stdout, stderr) = await ProcessCluster.RunCliStreamsAsync(args, environment: new Dictionary<string, string?> { [NodeEndpoints.EnvironmentVariable] = null });
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith($"distsys: {expected}", stderr.Trim());
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_bad_environment_variable_fails_naming_it_and_an_endpoint_that_does_not_answer_fails_naming_it_and_the_cause()
    {
        var (code, text) = await ProcessCluster.RunCliAsync(["status"], environment: new Dictionary<string, string?> { [NodeEndpoints.EnvironmentVariable] = "10.0.0.1:8081" });
        Assert.Equal((1, $"distsys: DISTSYS_ENDPOINT must be a node's HTTP base address, an absolute http:// or https:// URL such as {NodeEndpoints.Example}; '10.0.0.1:8081' has no scheme (http:// or https://)"),
            (code, text.Trim()));

        var port = ProcessCluster.FreePortBase(1) + 1;
        (code, text) = await ProcessCluster.RunCliAsync(["status"], environment: new Dictionary<string, string?> { [NodeEndpoints.EnvironmentVariable] = $"http://127.0.0.1:{port}" });
        Assert.Equal(1, code);
        Assert.StartsWith($"distsys: the endpoint http://127.0.0.1:{port} (DISTSYS_ENDPOINT) did not answer GET /status: ", text.Trim());
        Assert.Contains("refused", text);
    }
}
