using System.Text.RegularExpressions;
using DistSysActors.Node.Client;
using DistSysActors.Node.Http;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Client commands against a cluster off the port plan, as on several hosts: three nodes joined by seed addresses, each
/// on an HTTP port the port plan would not give it (node I's is not http-base-port + I for any one base), reached only
/// through `--endpoint` (or DISTSYS_ENDPOINT) naming node 2. A client that fell back to the port plan finds no node, or
/// the wrong one.
/// </summary>
public sealed class EndpointCliProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Kv_status_and_fault_commands_reach_every_node_through_one_endpoint()
    {
        using var cluster = new ProcessCluster(3);
        int RemotePort(int id) => cluster.BasePort + id;
        // A rotation of the free range: node 1 on the third port, node 2 on the first, node 3 on the second.
        int HttpPort(int id) => cluster.HttpBasePort + (id + 1) % 3 + 1;
        Assert.All(Enumerable.Range(1, 3), i => Assert.NotEqual(cluster.HttpBasePort + i, HttpPort(i)));
        var seeds = Enumerable.Range(1, 3).SelectMany(i => new[] { "--seed", $"akka.tcp://distsys@127.0.0.1:{RemotePort(i)}" }).ToArray();
        for (var i = 1; i <= 3; i++)
            cluster.Launch(i, ["node", "--id", $"{i}", "--nodes", "3", "--port", $"{RemotePort(i)}", "--http-port", $"{HttpPort(i)}", .. seeds,
                "--data-dir", cluster.DataDir, "--set", "distsys.ping.interval-ms=200"]);
        NodeClient Client(int id) => new(id, new Uri($"http://127.0.0.1:{HttpPort(id)}"));
        var endpoint = $"http://127.0.0.1:{HttpPort(2)}";

        async Task<(int Code, string Out)> Cli(string? variable, params string[] args)
        {
            // The option's runs clear the variable, so only the option can point them at the cluster.
            var (code, text) = await ProcessCluster.RunCliAsync(args, environment: new Dictionary<string, string?> { [NodeEndpoints.EnvironmentVariable] = variable });
            output.WriteLine($"$ {(variable is null ? "" : $"DISTSYS_ENDPOINT={variable} ")}distsys {string.Join(' ', args)}  (exit {code})\n{text}");
            return (code, text);
        }
        async Task<FaultSpecDto[]> Faults()
        {
            var faults = new FaultSpecDto[3];
            for (var i = 1; i <= 3; i++)
            {
                using var c = Client(i);
                faults[i - 1] = (await c.StatusAsync()).Network.Faults;
            }
            return faults;
        }

        await cluster.AwaitAsync(async () =>
        {
            for (var i = 1; i <= 3; i++)
            {
                using var c = Client(i);
                if (!(await c.ReadyAsync()).Ready) return false;
            }
            return true;
        }, TimeSpan.FromSeconds(90), "every node answers /health/ready with 200 on its own HTTP port");

        var key = $"endpoint-{Guid.NewGuid():N}";
        var (code, text) = await Cli(null, "--endpoint", endpoint, "kv", "put", key, "v");
        Assert.Equal(0, code);
        Assert.Matches("""^\{"index":\d+\}$""", text.Trim());
        (code, text) = await Cli(null, "kv", "get", key, "--node", "3", "--endpoint", endpoint);
        Assert.Equal((0, "v"), (code, text.Trim()));

        // Every member Up and reachable at its own remoting and HTTP addresses; every node's Raft row answered.
        string status = "";
        await cluster.AwaitAsync(async () =>
        {
            (code, status) = await Cli(null, "--endpoint", endpoint, "status");
            return code == 0 && Enumerable.Range(1, 3).All(i =>
                Regex.IsMatch(status, $@"(?m)^{i}\s+Up\s+yes\s+akka\.[a-z.]*tcp://distsys@127\.0\.0\.1:{RemotePort(i)}\s+http://127\.0\.0\.1:{HttpPort(i)}\s*$")
                && Regex.IsMatch(status, $@"(?m)^{i}\s+(Leader|Follower)\s+\d+"));
        }, TimeSpan.FromSeconds(30), "`distsys status` through the endpoint lists every node Up, with its Raft row");
        Assert.StartsWith("node 2 of 3", status.TrimStart());

        // The variable instead of the option: a partition set on, and healed on, every node.
        (code, text) = await Cli(endpoint, "fault", "partition", "1,2/3");
        Assert.Equal(0, code);
        for (var i = 1; i <= 3; i++) Assert.Contains($"node {i}: faults now partition 1,2/3", text);
        await cluster.AwaitAsync(async () => (await Faults()).All(f => f.Partitions is [[1, 2], [3]]),
            TimeSpan.FromSeconds(10), "every node's /status shows the partition 1,2/3");
        (code, text) = await Cli(endpoint, "fault", "heal");
        Assert.Equal(0, code);
        for (var i = 1; i <= 3; i++) Assert.Contains($"node {i}: faults now none", text);
        await cluster.AwaitAsync(async () => (await Faults()).All(f => f.Partitions.Length == 0),
            TimeSpan.FromSeconds(10), "every node's /status shows no partition");

        // A node the cluster does not list is refused by name, nothing sent to the port plan.
        (code, text) = await Cli(endpoint, "status", "--node", "7");
        Assert.Equal((1, $"distsys: node 7 is not a member of the cluster at {endpoint} (DISTSYS_ENDPOINT) (members: 1, 2, 3)"), (code, text.Trim()));
    }
}
