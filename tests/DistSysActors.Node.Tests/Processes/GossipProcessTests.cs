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
/// node within a few exchange rounds; a node killed with SIGKILL keeps the writes it acknowledged; across a 3|2 partition both sides accept /ap writes while Raft's minority refuses
/// /kv writes and Akka's Split Brain Resolver downs the minority, and after the heal every node answers the same value.
/// </summary>
public sealed partial class GossipProcessTests(ClusterOfFive fixture, ITestOutputHelper output) : IClassFixture<ClusterOfFive>
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

    [Fact]
    public async Task A_node_killed_with_sigkill_keeps_an_acknowledged_ap_write_it_never_passed_on()
    {
        await fixture.EnsureRunningAsync();
        // Node 2 cut off from everyone: what it accepts now cannot leave it.
        using (var client = Cluster.Client(2))
            Assert.True((await client.PostFaultsAsync(new FaultSpecDto([[2], [1, 3, 4, 5]], 0, [0, 0], 0, false, null))).IsSuccessStatusCode);
        var key = $"durable-{Guid.NewGuid():N}";
        var (code, _, hlc) = await SendAsync(2, HttpMethod.Put, $"/ap/{key}", "on-disk");
        Assert.Equal(200, code);
        var deleted = $"deleted-{Guid.NewGuid():N}";
        Assert.Equal(200, (await SendAsync(2, HttpMethod.Delete, $"/ap/{deleted}")).Code);
        Cluster.Kill(2);
        foreach (var n in new[] { 1, 3, 4, 5 }) Assert.Equal(404, (await SendAsync(n, HttpMethod.Get, $"/ap/{key}")).Code);

        Cluster.Start(2);
        // Back from its journal: the same value at the same version, and the tombstone (404 "deleted", with a version).
        await Cluster.AwaitAsync(async () =>
        {
            try { return (await SendAsync(2, HttpMethod.Get, $"/ap/{key}")).Code == 200; }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
        }, TimeSpan.FromSeconds(90), $"the restarted node 2 answers /ap/{key}");
        var (_, body, hlcAfter) = await SendAsync(2, HttpMethod.Get, $"/ap/{key}");
        Assert.Equal(("on-disk", hlc), (body, hlcAfter));
        var (deletedCode, deletedBody, tombstone) = await SendAsync(2, HttpMethod.Get, $"/ap/{deleted}");
        Assert.Equal(404, deletedCode);
        Assert.Contains("deleted", deletedBody);
        Assert.NotNull(tombstone);
        // Only node 2 ever had it; anti-entropy now hands it to everyone.
        await AwaitEveryNodeAsync(key, 200, "on-disk", All, TimeSpan.FromSeconds(60));
    }

    private static (long Wall, long Logical, int Writer) Version(string hlc)
    {
        var parts = hlc.Split('.', '@');
        return (long.Parse(parts[0]), long.Parse(parts[1]), int.Parse(parts[2]));
    }
}
