using System.Diagnostics;
using System.Net.Http.Json;
using DistSysActors.Node.Http;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>Three real `distsys node` processes: kill -9, restart, persistence, and faults through the CLI.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class MultiProcessClusterTests(ClusterOfThree fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);
    private ProcessCluster Cluster => fixture.Cluster;

    private Task EnsureRunningAsync() => fixture.EnsureRunningAsync();

    private async Task<StatusDto> StatusAsync(int node)
    {
        using var client = Cluster.Client(node);
        return await client.StatusAsync();
    }

    private async Task<bool> SeesAsync(int observer, int target, string status, bool reachable)
    {
        var s = await StatusAsync(observer);
        return s.Members.Any(m => m.NodeId == target && m.Status == status && m.Reachable == reachable);
    }

    /// <summary>Whether <paramref name="observer"/>'s heartbeat detector and Akka.Cluster both hold <paramref name="available"/> about <paramref name="peer"/>.</summary>
    private async Task<bool> DetectorSeesAsync(int observer, int peer, bool available)
    {
        var p = (await StatusAsync(observer)).FailureDetector!.Peers.Single(x => x.NodeId == peer);
        return p.Available == available && p.AkkaReachable == available;
    }

    private async Task<(int Code, string Body)> GetAsync(int node, string path)
    {
        using var client = Cluster.Client(node);
        return await client.SendAsync(HttpMethod.Get, path);
    }

    private async Task<(int Code, string Out)> CliAsync(params string[] args)
    {
        var result = await Cluster.CliAsync(args);
        output.WriteLine($"$ distsys {string.Join(' ', args)}\n{result.Out}");
        return result;
    }

    [Fact]
    public async Task Killed_node_is_seen_unreachable_and_rejoins_with_its_persisted_state_after_restart()
    {
        await EnsureRunningAsync();
        await Cluster.AwaitAsync(async () =>
        {
            for (var i = 1; i <= 3; i++)
                if ((await StatusAsync(i)).Members.Count(m => m.Status == "Up" && m.Reachable) != 3) return false;
            return true;
        }, TimeSpan.FromSeconds(60), "every node sees 3 Up, reachable members");
        var incarnationBefore = (await StatusAsync(3)).Incarnation;
        Assert.True(incarnationBefore >= 1);
        var (code, body) = await GetAsync(1, "/health/live");
        Assert.Equal(200, code);
        Assert.Contains("\"actorSystem\":\"ok", body);
        await Cluster.AwaitAsync(async () => (await GetAsync(1, "/health/ready")).Body.Contains("\"quorumReachable\":\"ok (3/3 Raft voters)\""),
            TimeSpan.FromSeconds(10), "node 1's detector sees all three nodes");
        (code, body) = await GetAsync(1, "/health/ready");
        Assert.Equal(200, code);
        Assert.Contains("\"member\":\"ok\"", body);
        Assert.Contains("\"raftLeader\":\"ok (", body);

        var watch = Stopwatch.StartNew();
        Cluster.Kill(3);
        await Cluster.AwaitAsync(async () => !(await SeesAsync(1, 3, "Up", true)) && !(await SeesAsync(2, 3, "Up", true)),
            TimeSpan.FromSeconds(30), "nodes 1 and 2 no longer see node 3 as a reachable Up member");
        output.WriteLine($"node 3 unreachable after {watch.ElapsedMilliseconds} ms");
        // Our heartbeat detector agrees on both survivors, and a majority (2/3) still counts as ready.
        await Cluster.AwaitAsync(async () => await DetectorSeesAsync(1, 3, false) && await DetectorSeesAsync(2, 3, false),
            TimeSpan.FromSeconds(30), "both survivors' detectors find node 3 unavailable");
        output.WriteLine($"node 3 unavailable to our detector after {watch.ElapsedMilliseconds} ms");
        Assert.True((await StatusAsync(1)).FailureDetector!.Peers.Single(p => p.NodeId == 3).Phi >= 8);
        await Cluster.AwaitAsync(async () => (await GetAsync(1, "/health/ready")) is (200, var b) && b.Contains("\"quorumReachable\":\"ok (2/3 Raft voters)\""),
            TimeSpan.FromSeconds(30), "node 1 is ready with 2 of 3 reachable");

        watch.Restart();
        Cluster.Start(3);
        await Cluster.AwaitAsync(async () => await SeesAsync(1, 3, "Up", true) && await SeesAsync(2, 3, "Up", true)
                                            && (await StatusAsync(3)).Members.Count(m => m.Status == "Up") == 3,
            Ready, "the restarted node 3 is an Up, reachable member again");
        await Cluster.AwaitAsync(async () => await DetectorSeesAsync(1, 3, true) && await DetectorSeesAsync(2, 3, true),
            TimeSpan.FromSeconds(30), "both detectors find the restarted node 3 available again");
        output.WriteLine($"node 3 Up again {watch.ElapsedMilliseconds} ms after restart");

        // Its SQLite journal survived the SIGKILL: the restart recovered the old starts and added one.
        // (At least one: on a loaded machine the slow new process may be downed once more and restart in-process; a lost
        // journal would start again from 1.)
        var incarnationAfter = (await StatusAsync(3)).Incarnation;
        Assert.True(incarnationAfter > incarnationBefore, $"incarnation {incarnationAfter} after the restart, {incarnationBefore} before");
    }

    [Fact]
    public async Task Faults_from_the_cli_partition_the_cluster_for_akka_and_protocol_traffic_and_heal_restores_both()
    {
        await EnsureRunningAsync();

        var (code, text) = await CliAsync("status", "--node", "2");
        Assert.Equal(0, code);
        Assert.Contains("REACHABLE", text);

        (code, _) = await CliAsync("fault", "partition", "1,2/3");
        Assert.Equal(0, code);
        var watch = Stopwatch.StartNew();
        await Cluster.AwaitAsync(async () => !(await SeesAsync(1, 3, "Up", true)) && !(await SeesAsync(2, 3, "Up", true)),
            TimeSpan.FromSeconds(15), "nodes 1 and 2 see node 3 unreachable after the partition");
        output.WriteLine($"node 3 unreachable {watch.ElapsedMilliseconds} ms after the partition");
        // Heartbeats go through the network component, so the partition cuts them too.
        await Cluster.AwaitAsync(async () => !(await StatusAsync(1)).FailureDetector!.Peers.Single(p => p.NodeId == 3).Available,
            TimeSpan.FromSeconds(30), "node 1's detector finds node 3 unavailable during the partition");
        Assert.True((await StatusAsync(1)).FailureDetector!.Peers.Single(p => p.NodeId == 2).Available);
        // The minority side is not ready, and its 503 names the failing checks.
        await Cluster.AwaitAsync(async () =>
            {
                try { return await GetAsync(3, "/health/ready") is (503, var b) && b.Contains("\"status\":\"not ready\"") && b.Contains("failed"); }
                catch (HttpRequestException) { return false; }
            },
            TimeSpan.FromSeconds(30), "node 3, cut off from the majority, answers /health/ready with 503 naming what failed");

        // Protocol traffic is cut too: node 1 gets no more pongs from node 3 while pongs from node 2 keep coming.
        var before = (await StatusAsync(1)).Ping.ToDictionary(p => p.NodeId);
        await Cluster.AwaitAsync(async () => (await StatusAsync(1)).Ping.Single(p => p.NodeId == 2).PongsReceived >= before[2].PongsReceived + 5,
            TimeSpan.FromSeconds(10), "node 1 receives five more pongs from node 2");
        Assert.Equal(before[3].PongsReceived, (await StatusAsync(1)).Ping.Single(p => p.NodeId == 3).PongsReceived);

        (code, _) = await CliAsync("fault", "heal");
        Assert.Equal(0, code);
        watch.Restart();
        await Cluster.AwaitAsync(async () => await SeesAsync(1, 3, "Up", true) && await SeesAsync(2, 3, "Up", true) && await Cluster.AllReadyAsync(),
            Ready, "node 3 is an Up, reachable member again after the heal");
        output.WriteLine($"node 3 Up and reachable {watch.ElapsedMilliseconds} ms after the heal");
        var pongs3 = (await StatusAsync(1)).Ping.Single(p => p.NodeId == 3).PongsReceived;
        // Up to a minute: a partition that outlasted the Split Brain Resolver's stable-after downed node 3, and its new
        // actor system may go through another unreachable/downed/rejoin cycle before the link settles.
        await Cluster.AwaitAsync(async () => (await StatusAsync(1)).Ping.Single(p => p.NodeId == 3).PongsReceived > pongs3,
            TimeSpan.FromSeconds(60), "node 1 receives pongs from node 3 again");

        // Delay: a 300 ms delay each way shows in the round trip.
        (code, _) = await CliAsync("fault", "delay", "300-300");
        Assert.Equal(0, code);
        await Cluster.AwaitAsync(async () => (await StatusAsync(1)).Ping.Single(p => p.NodeId == 2).LastRttMs >= 600,
            TimeSpan.FromSeconds(10), "node 1's round trip to node 2 includes both 300 ms delays");
        (code, _) = await CliAsync("fault", "heal");
        Assert.Equal(0, code);
        await Cluster.AwaitAsync(async () => (await StatusAsync(1)).Ping.Single(p => p.NodeId == 2).LastRttMs < 300,
            TimeSpan.FromSeconds(10), "the round trip is short again after the heal");
    }

    [Fact]
    public async Task Partitioned_minority_is_downed_by_the_split_brain_resolver_restarts_its_actor_system_and_rejoins_after_heal()
    {
        await EnsureRunningAsync();
        var before = await StatusAsync(3);

        var (code, _) = await CliAsync("fault", "partition", "1,2/3");
        Assert.Equal(0, code);
        var watch = Stopwatch.StartNew();
        // keep-majority, stable-after 5s: the majority downs node 3 and removes it from its membership.
        await Cluster.AwaitAsync(async () =>
        {
            foreach (var observer in new[] { 1, 2 })
                if ((await StatusAsync(observer)).Members.Any(m => m.NodeId == 3 && m.Status != "Down")) return false;
            return true;
        }, TimeSpan.FromSeconds(60), "nodes 1 and 2 have downed node 3 (Down or removed)");
        output.WriteLine($"node 3 downed by the majority {watch.ElapsedMilliseconds} ms after the partition");
        // Node 3 downs itself too; distsys.node.rejoin-when-downed starts a new actor system in the same process.
        await Cluster.AwaitAsync(async () => Cluster.Logs(3).Contains("node 3: actor system stopped (downed by the cluster); restarting to rejoin")
                                            && (await StatusAsync(3)).Restarts > before.Restarts,
            TimeSpan.FromSeconds(60), "node 3 logs that it was downed and its /status counts another actor system restart");
        Assert.False(Cluster.HasExited(3));
        output.WriteLine($"node 3 restarted its actor system {watch.ElapsedMilliseconds} ms after the partition");

        // A heal that reaches node 3 while its actor system restarts is refused there; an operator would run it again.
        await Cluster.AwaitAsync(async () => (await Cluster.CliAsync("fault", "heal")).Code == 0, TimeSpan.FromSeconds(30),
            "`distsys fault heal` reaches every node");
        watch.Restart();
        await Cluster.AwaitAsync(async () => await SeesAsync(1, 3, "Up", true) && await SeesAsync(2, 3, "Up", true)
                                            && (await StatusAsync(3)).Members.Count(m => m.Status == "Up" && m.Reachable) == 3,
            Ready, "node 3 is an Up, reachable member again at every node");
        output.WriteLine($"node 3 Up again {watch.ElapsedMilliseconds} ms after the heal");
        var after = await StatusAsync(3);
        // The new actor system recovered the journal and counted another start (more than one if load got it downed again).
        Assert.True(after.Incarnation > before.Incarnation && after.Restarts > before.Restarts,
            $"incarnation {before.Incarnation} -> {after.Incarnation}, restarts {before.Restarts} -> {after.Restarts}");

        // Raft works with all three: a write through node 3 is committed and applied at every node.
        var key = $"sbr-{Guid.NewGuid():N}";
        await Cluster.AwaitAsync(async () =>
        {
            using var client = Cluster.Client(3);
            return (await client.SendAsync(HttpMethod.Put, $"/kv/{key}", new StringContent("after-heal"))).Code == 200;
        }, TimeSpan.FromSeconds(30), "a write through node 3 is acknowledged");
        foreach (var node in new[] { 1, 2, 3 })
            await Cluster.AwaitAsync(async () => await GetAsync(node, $"/kv/{key}?consistency=stale") is (200, "after-heal"),
                TimeSpan.FromSeconds(20), $"node {node} has applied the write");
        await Cluster.AwaitAsync(Cluster.AllReadyAsync, Ready, "every node answers /health/ready with 200");
    }

    [Fact]
    public async Task Bad_fault_input_is_rejected_with_400_and_changes_nothing()
    {
        await EnsureRunningAsync();
        using var http = new HttpClient { BaseAddress = Cluster.Client(1).BaseAddress };
        foreach (var body in new[] { "{not json", "{\"dropRate\": 1.5}", "{\"partitions\": [[1,2],[7]]}", "{\"delayMs\": [50, 5]}", "{\"colour\": 1}" })
        {
            using var response = await http.PostAsync("/admin/faults", new StringContent(body));
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("error", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal("none", Commands.StatusCommand.Describe((await StatusAsync(1)).Network.Faults));
        var (code, text) = await CliAsync("fault", "drop", "2");
        Assert.NotEqual(0, code);
        Assert.Contains("between 0 and 1", text);
    }

    private async Task<(int Code, string Body, bool Replayed)> WriteAsync(int node, HttpMethod method, string path, string body, string? key)
    {
        using var client = Cluster.Client(node);
        return await client.SendAsync(method, path, new StringContent(body), key);
    }

    [Fact]
    public async Task A_write_retried_with_its_idempotency_key_takes_effect_once_even_across_a_leader_crash()
    {
        await EnsureRunningAsync();
        var key = $"k-{Guid.NewGuid():N}";

        // Plain retry: the stored answer comes back, marked as replayed; another request with the key is refused.
        var first = await WriteAsync(1, HttpMethod.Put, $"/kv/{key}", "v1", "idem-put-1");
        var retry = await WriteAsync(2, HttpMethod.Put, $"/kv/{key}", "v1", "idem-put-1");
        Assert.Equal((200, false), (first.Code, first.Replayed));
        Assert.Equal((200, true, first.Body), (retry.Code, retry.Replayed, retry.Body));
        Assert.Equal(422, (await WriteAsync(2, HttpMethod.Put, $"/kv/{key}", "v2", "idem-put-1")).Code);
        Assert.Equal(400, (await WriteAsync(2, HttpMethod.Put, $"/kv/{key}", "v2", new string('x', 256))).Code);

        // The leader commits a cas, then crashes before the client sees an answer; the client retries elsewhere.
        var leader = (await StatusAsync(1)).Raft!.LeaderId!.Value;
        var cas = """{"expected": "v1", "value": "v2"}""";
        using (var lost = new HttpClient { BaseAddress = Cluster.Client(leader).BaseAddress, Timeout = TimeSpan.FromSeconds(10) })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/kv/{key}/cas") { Content = new StringContent(cas) };
            request.Headers.Add("Idempotency-Key", "idem-cas-1");
            _ = lost.SendAsync(request); // its answer is never read: as if lost with the crash
            var other = Enumerable.Range(1, 3).First(i => i != leader);
            await Cluster.AwaitAsync(async () =>
            {
                using var c = Cluster.Client(other);
                return (await c.SendAsync(HttpMethod.Get, $"/kv/{key}?consistency=stale")).Body == "v2";
            }, TimeSpan.FromSeconds(15), "the cas is committed and applied on another node");
            Cluster.Kill(leader);
            output.WriteLine($"killed leader {leader} after the cas committed");

            // Executed again, this cas would fail (the value is already v2); the retry returns the stored success instead.
            var answer = await RetryAsync(other, HttpMethod.Post, $"/kv/{key}/cas", cas, "idem-cas-1");
            Assert.Equal((200, true), (answer.Code, answer.Replayed));
            using var reader = Cluster.Client(other);
            Assert.Equal("v2", (await reader.SendAsync(HttpMethod.Get, $"/kv/{key}")).Body);
        }
        Cluster.Start(leader);
        await Cluster.AwaitAsync(Cluster.AllReadyAsync, TimeSpan.FromSeconds(90), "the old leader is back and every node ready");
    }

    /// <summary>Retries (as a client would after a failover) until the cluster answers with something other than 503.</summary>
    private async Task<(int Code, string Body, bool Replayed)> RetryAsync(int node, HttpMethod method, string path, string body, string key)
    {
        (int Code, string Body, bool Replayed) last = (0, "", false);
        await Cluster.AwaitAsync(async () =>
        {
            last = await WriteAsync(node, method, path, body, key);
            return last.Code != 503;
        }, TimeSpan.FromSeconds(30), $"{method} {path} is answered by node {node}");
        return last;
    }
}
