using System.Diagnostics;
using System.Text;
using System.Text.Json;
using DistSysActors.Node.Client;
using DistSysActors.Node.Http;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>One 5-node cluster shared by the gossip process tests.</summary>
public sealed class ClusterOfFive : IDisposable
{
    public ProcessCluster Cluster { get; } = new(5);

    public async Task EnsureRunningAsync()
    {
        if (!File.Exists(Path.Combine(Cluster.DataDir, "started")))
        {
            Cluster.StartAll();
            await File.WriteAllTextAsync(Path.Combine(Cluster.DataDir, "started"), "");
        }
        else
        {
            // Whatever the test before left behind: a partition it did not heal, a node it did not restart.
            Cluster.RestartExited();
            await Cluster.HealAllAsync();
        }
        await Cluster.AwaitAsync(Cluster.AllReadyAsync, TimeSpan.FromSeconds(120), "every node answers /health/ready with 200");
    }

    public void Dispose() => Cluster.Dispose();
}

/// <summary>
/// SWIM and the AP store on five real processes (README: CP vs AP): a value written to /ap on one node is readable on every
/// node within a few exchange rounds; across a 3|2 partition both sides accept /ap writes while Raft's minority refuses
/// /kv writes and Akka's Split Brain Resolver downs the minority, and after the heal every node answers the same value.
/// </summary>
public sealed class GossipProcessTests(ClusterOfFive fixture, ITestOutputHelper output) : IClassFixture<ClusterOfFive>
{
    private static readonly int[] All = [1, 2, 3, 4, 5];

    private ProcessCluster Cluster => fixture.Cluster;

    private async Task<(int Code, string Body, string? Hlc)> SendAsync(int node, HttpMethod method, string path, string? value = null)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Cluster.HttpBasePort + node}"), Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(method, path);
        if (value is not null) request.Content = new StringContent(value, Encoding.UTF8, "text/plain");
        using var response = await http.SendAsync(request);
        var hlc = response.Headers.TryGetValues(ApHttpApi.HlcHeader, out var h) ? $"{h.First()}@{response.Headers.GetValues(ApHttpApi.WriterHeader).First()}" : null;
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), hlc);
    }

    private async Task<JsonElement> StatusAsync(int node)
    {
        using var client = Cluster.Client(node);
        var (_, body) = await client.SendAsync(HttpMethod.Get, "/status");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string? GossipState(JsonElement status, int member) =>
        status.GetProperty("gossip").GetProperty("members").EnumerateArray()
            .Where(m => m.GetProperty("nodeId").GetInt32() == member).Select(m => m.GetProperty("state").GetString()).FirstOrDefault();

    private Task AwaitEveryNodeAsync(string key, int expectedCode, string? expectedValue, int[] nodes, TimeSpan timeout) =>
        Cluster.AwaitAsync(async () =>
        {
            foreach (var n in nodes)
            {
                var (code, body, _) = await SendAsync(n, HttpMethod.Get, $"/ap/{key}");
                if (code != expectedCode || (expectedValue is not null && body != expectedValue)) return false;
            }
            return true;
        }, timeout, $"nodes {string.Join(",", nodes)} answer {expectedCode} {expectedValue} for /ap/{key}");

    [Fact]
    public async Task A_write_on_one_node_is_readable_on_every_node_within_a_few_rounds_and_status_shows_the_swim_view()
    {
        await fixture.EnsureRunningAsync();
        await Cluster.AwaitAsync(async () => (await StatusAsync(3)).GetProperty("gossip").GetProperty("members").EnumerateArray()
            .Count(m => m.GetProperty("state").GetString() == "alive") == 5, TimeSpan.FromSeconds(60), "node 3's SWIM view has five alive members");
        var status = await StatusAsync(3);
        var gossip = status.GetProperty("gossip");
        Assert.True(gossip.GetProperty("rounds").GetInt64() > 0 && gossip.GetProperty("messagesSent").GetInt64() > 0);
        Assert.All(gossip.GetProperty("members").EnumerateArray(), m =>
            Assert.Equal(["incarnation", "nodeId", "state"], m.EnumerateObject().Select(p => p.Name).Order().ToArray()));
        Assert.Equal(5, status.GetProperty("members").GetArrayLength()); // Akka.Cluster's view beside it

        var (code, _, hlc) = await SendAsync(1, HttpMethod.Put, "/ap/spread", "hello");
        Assert.Equal(200, code);
        Assert.NotNull(hlc);
        var watch = Stopwatch.StartNew();
        await AwaitEveryNodeAsync("spread", 200, "hello", All, TimeSpan.FromSeconds(10));
        output.WriteLine($"readable on all 5 nodes after {watch.ElapsedMilliseconds} ms (exchange interval 200 ms)");
        var (_, _, hlcOn5) = await SendAsync(5, HttpMethod.Get, "/ap/spread");
        Assert.Equal(hlc, hlcOn5);

        Assert.Equal(200, (await SendAsync(2, HttpMethod.Delete, "/ap/spread")).Code);
        await AwaitEveryNodeAsync("spread", 404, null, All, TimeSpan.FromSeconds(10));
        Assert.Equal(400, (await SendAsync(1, HttpMethod.Put, $"/ap/{new string('k', 300)}", "v")).Code);
    }

    [Fact(Skip = "Fails on main since the merges: after the heal a node answers another /ap value than the majority's. The AP replica is kept in memory, and the minority that the Split Brain Resolver downs restarts its actor system with an empty one; persisting the replica is the open fix (issue 14)")]
    public async Task Across_a_3_2_partition_both_sides_accept_ap_writes_the_raft_minority_refuses_and_after_the_heal_every_node_agrees()
    {
        await fixture.EnsureRunningAsync();
        var partition = new FaultSpecDto([[1, 2, 3], [4, 5]], 0, [0, 0], 0, false, null);
        foreach (var n in All)
        {
            using var client = Cluster.Client(n);
            Assert.True((await client.PostFaultsAsync(partition)).IsSuccessStatusCode);
        }
        var cutAt = Stopwatch.StartNew();
        // SWIM on the majority declares 4 and 5 dead; Akka's Split Brain Resolver downs them (they restart and wait to rejoin).
        await Cluster.AwaitAsync(async () => GossipState(await StatusAsync(1), 5) == "dead", TimeSpan.FromSeconds(60), "node 1's SWIM view has node 5 dead");
        var swimDeadMs = cutAt.ElapsedMilliseconds;
        await Cluster.AwaitAsync(async () => !(await StatusAsync(1)).GetProperty("members").EnumerateArray().Any(m => m.GetProperty("nodeId").GetInt32() == 5),
            TimeSpan.FromSeconds(60), "Akka.Cluster on node 1 has removed node 5 (downed by the Split Brain Resolver)");
        var downedMs = cutAt.ElapsedMilliseconds;
        await Cluster.AwaitAsync(async () => { try { return (await StatusAsync(4)).TryGetProperty("gossip", out var g) && g.ValueKind == JsonValueKind.Object; } catch (HttpRequestException) { return false; } },
            TimeSpan.FromSeconds(60), "node 4 serves /status again after its actor system restarted");

        // The same keys written on both sides: /ap accepts everywhere, /kv only where Raft has a quorum.
        var writes = new Dictionary<string, List<(string Value, string Hlc)>>();
        for (var i = 0; i < 3; i++)
        {
            foreach (var (node, side) in new[] { (1, "majority"), (4, "minority") })
            {
                var (code, _, hlc) = await SendAsync(node, HttpMethod.Put, $"/ap/cap-{i}", $"{side}-{i}");
                Assert.Equal(200, code);
                (writes.TryGetValue($"cap-{i}", out var list) ? list : writes[$"cap-{i}"] = []).Add(($"{side}-{i}", hlc!));
            }
        }
        Assert.Equal(200, (await SendAsync(1, HttpMethod.Put, "/kv/cap-kv", "majority")).Code);
        var (minorityCode, minorityBody, _) = await SendAsync(4, HttpMethod.Put, "/kv/cap-kv", "minority");
        output.WriteLine($"/kv on the minority: {minorityCode} {minorityBody}");
        Assert.Equal(503, minorityCode);
        Assert.Equal("not-applied", JsonDocument.Parse(minorityBody).RootElement.GetProperty("outcome").GetString());
        // Each side converges on its own writes while cut off (stale, but available).
        await AwaitEveryNodeAsync("cap-0", 200, "majority-0", [1, 2, 3], TimeSpan.FromSeconds(10));
        await AwaitEveryNodeAsync("cap-0", 200, "minority-0", [4, 5], TimeSpan.FromSeconds(10));

        await Cluster.HealAllAsync();
        var healed = Stopwatch.StartNew();
        foreach (var (key, candidates) in writes)
        {
            // Last writer wins: the greater (HLC, writer) of the two writes, the same on every node.
            var winner = candidates.MaxBy(c => Version(c.Hlc))!;
            await AwaitEveryNodeAsync(key, 200, winner.Value, All, TimeSpan.FromSeconds(30));
        }
        var convergedMs = healed.ElapsedMilliseconds;
        output.WriteLine($"SWIM declared node 5 dead {swimDeadMs} ms after the cut; Akka removed it {downedMs} ms after; /ap converged {convergedMs} ms after the heal");
        await fixture.EnsureRunningAsync();
        Assert.Equal("majority", (await SendAsync(5, HttpMethod.Get, "/kv/cap-kv")).Body);
    }

    private static (long Wall, long Logical, int Writer) Version(string hlc)
    {
        var parts = hlc.Split('.', '@');
        return (long.Parse(parts[0]), long.Parse(parts[1]), int.Parse(parts[2]));
    }
}
