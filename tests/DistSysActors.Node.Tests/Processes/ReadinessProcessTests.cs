using System.Text.Json;
using DistSysActors.Node.Http;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// /health/ready claims only what this actor system observed: a peer counts as reachable once a heartbeat answer from
/// it arrived. A fresh failure detector finds every peer "available" before it has monitored them (there is no history
/// to suspect from), which is what a node restarted after being downed has while it is still cut off.
/// </summary>
public sealed class ReadinessProcessTests(ITestOutputHelper output)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_node_that_never_heard_from_its_peers_does_not_count_them_in_its_quorum_check()
    {
        using var cluster = new ProcessCluster(3);
        // Node 2 alone: nodes 1 and 3 never start, so it never becomes an Up member and never hears a heartbeat answer.
        cluster.Start(2);
        using var client = cluster.Client(2);
        HealthDto? health = null;
        await cluster.AwaitAsync(async () =>
        {
            var (ready, body) = await client.ReadyAsync();
            health = JsonSerializer.Deserialize<HealthDto>(body, Json);
            return health?.Checks.ContainsKey("quorumReachable") == true && !ready;
        }, TimeSpan.FromSeconds(60), "node 2 answers /health/ready with a quorumReachable check");

        // Several answers over a few heartbeat intervals: none claims a quorum it has not heard from.
        for (var poll = 0; poll < 10; poll++)
        {
            var (_, body) = await client.ReadyAsync();
            health = JsonSerializer.Deserialize<HealthDto>(body, Json)!;
            output.WriteLine(body);
            Assert.Equal("failed: 1/3 Raft voters reachable, a quorum needs 2", health.Checks["quorumReachable"]);
            var status = await client.StatusAsync();
            Assert.Equal(1, status.FailureDetector!.ReachableCount);
            Assert.All(status.FailureDetector.Peers, p => Assert.False(p.HeardFrom, $"node 2 reports a heartbeat from node {p.NodeId}"));
            await Task.Delay(300);
        }
    }
}
