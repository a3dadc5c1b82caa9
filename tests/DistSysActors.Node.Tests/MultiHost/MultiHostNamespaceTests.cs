using System.Net.Http.Headers;
using DistSysActors.Node.Tests.Processes;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.MultiHost;

/// <summary>
/// Three nodes on three "hosts" (Linux network namespaces on a bridge, each with its own address and the same ports),
/// joined by seed addresses only: writes and reads through the key-value API, a partition through the fault layer, a
/// partition by real packet drops (iptables DROP inside one namespace), random packet loss (iptables statistic), heals.
/// Skipped, saying why, where namespaces cannot be created.
/// </summary>
public sealed class MultiHostNamespaceTests(ITestOutputHelper output)
{
    private const int Hosts = 3;
    private const int RemotePort = 4051;
    private const int HttpPort = 8081;
    private const string AdminToken = "multihost-admin-token-5c1e7a";

    [Fact]
    public async Task Three_nodes_on_three_hosts_join_by_seeds_and_survive_a_partition_real_packet_drops_and_loss()
    {
        var (namespaces, reason) = NetworkNamespaces.TryCreate(Hosts);
        if (namespaces is null)
        {
            output.WriteLine($"SKIPPED: network namespaces cannot be created here: {reason}");
            return;
        }
        using var _ = namespaces;
        using var cluster = new ProcessCluster(Hosts);
        var seeds = Enumerable.Range(1, Hosts).SelectMany(i => new[] { "--seed", $"akka.tcp://distsys@{namespaces.AddressOf(i)}:{RemotePort}" }).ToArray();
        for (var i = 1; i <= Hosts; i++)
        {
            // The same ports on every host: a peer found by port arithmetic would be looked for at the wrong place.
            cluster.Launch(i, ["netns", "exec", namespaces.NamespaceOf(i), ProcessCluster.Executable, "node", "--id", $"{i}", "--nodes", $"{Hosts}",
                "--hostname", namespaces.AddressOf(i), "--port", $"{RemotePort}", "--http-bind", namespaces.AddressOf(i), "--http-port", $"{HttpPort}",
                .. seeds, "--data-dir", cluster.DataDir, "--set", $"distsys.http.admin-token={AdminToken}", "--set", "distsys.ping.interval-ms=200"], fileName: "ip");
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        async Task<(int Code, string Body)> Send(int node, HttpMethod method, string path, string? body = null)
        {
            using var request = new HttpRequestMessage(method, $"http://{namespaces.AddressOf(node)}:{HttpPort}{path}");
            if (path.StartsWith("/admin", StringComparison.Ordinal) || (path.StartsWith("/dashboard/", StringComparison.Ordinal) && method != HttpMethod.Get))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
            if (body is not null) request.Content = new StringContent(body);
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        // A linearizable read on a cut-off host: it must not see the majority's new write (it answers 503 or not at all).
        async Task<(int, string)> TryGet(int node, string key)
        {
            (int, string) answer;
            try { answer = await Send(node, HttpMethod.Get, $"/kv/{key}"); }
            catch (TaskCanceledException) { answer = (0, "no answer in 10 s"); }
            output.WriteLine($"a linearizable read of {key} on the cut-off host {node}: {answer}");
            return answer;
        }
        Task Await(Func<Task<bool>> condition, int seconds, string what) => cluster.AwaitAsync(condition, TimeSpan.FromSeconds(seconds), what);
        Task Write(int node, string key, string value, int seconds = 60) =>
            Await(async () => (await Send(node, HttpMethod.Put, $"/kv/{key}", value)).Code == 200, seconds, $"PUT /kv/{key} through node {node} succeeds");
        Task Read(int node, string key, string value, int seconds = 60) =>
            Await(async () => await Send(node, HttpMethod.Get, $"/kv/{key}") is (200, var body) && body == value, seconds, $"node {node} reads {key} = {value}");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Await(async () =>
        {
            for (var i = 1; i <= Hosts; i++) if ((await Send(i, HttpMethod.Get, "/health/ready")).Code != 200) return false;
            return true;
        }, 120, "every node is ready");
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: three hosts ready, joined by seeds");
        // Each node lists the others at their own host's address and the same port.
        var (_, members) = await Send(1, HttpMethod.Get, "/admin/members");
        output.WriteLine($"members on node 1: {members}");
        var (_, status) = await Send(3, HttpMethod.Get, "/status");
        for (var i = 1; i <= Hosts; i++) Assert.Contains($"{namespaces.AddressOf(i)}:{RemotePort}", status);

        await Write(2, "a", "1");
        await Read(3, "a", "1");
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: written through node 2, read on node 3");

        // Each member carries its HTTP address (the same port on every host): what a node uses to reach another's HTTP API.
        using (var doc = System.Text.Json.JsonDocument.Parse(status))
        {
            var httpOf = doc.RootElement.GetProperty("members").EnumerateArray()
                .ToDictionary(m => m.GetProperty("nodeId").GetInt32(), m => m.GetProperty("http").GetString());
            for (var i = 1; i <= Hosts; i++) Assert.Equal($"http://{namespaces.AddressOf(i)}:{HttpPort}", httpOf[i]);
        }
        // A transaction that node 1 coordinates over the keys of nodes 2 and 3 (classic mode: dave on node 2, alice on node 3),
        // asked about through node 3 (which asks the coordinator's HTTP API on host 1) and read through node 1 (which asks
        // the owner's, on host 2).
        var (txnCode, txnBody) = await Send(1, HttpMethod.Post, "/txn",
            """{"protocol": "2pc", "ops": [{"op": "put", "key": "dave", "value": "100"}, {"op": "put", "key": "alice", "value": "0"}]}""");
        Assert.True(txnCode == 200, $"POST /txn: {txnCode} {txnBody}");
        var txnId = System.Text.Json.JsonDocument.Parse(txnBody).RootElement.GetProperty("id").GetString();
        var (shownCode, shown) = await Send(3, HttpMethod.Get, $"/txn/{txnId}");
        Assert.True(shownCode == 200 && shown.Contains("\"state\":\"committed\"", StringComparison.Ordinal), $"GET /txn/{txnId} on node 3: {shownCode} {shown}");
        Assert.Equal((200, "100"), await Send(1, HttpMethod.Get, "/txn/kv/dave"));
        // The cluster's logs merged by node 1 from every host, and node 1's dashboard sees every node up at its own address.
        await Await(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{namespaces.AddressOf(1)}:{HttpPort}/logs?limit=500");
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != System.Net.HttpStatusCode.OK || response.Headers.Contains("X-Logs-Missing-Nodes")) return false;
            var nodes = System.Text.Json.JsonDocument.Parse(body).RootElement.EnumerateArray().Select(r => r.GetProperty("node").GetInt32()).ToHashSet();
            return nodes.SetEquals([1, 2, 3]);
        }, 30, "GET /logs on node 1 merges records of all three hosts, none missing");
        await Await(async () =>
        {
            var (code, view) = await Send(1, HttpMethod.Get, "/dashboard/view");
            if (code != 200) return false;
            var cluster = System.Text.Json.JsonDocument.Parse(view).RootElement.GetProperty("cluster").EnumerateArray().ToList();
            return cluster.Count == Hosts && cluster.All(n => n.GetProperty("up").GetBoolean()
                && n.GetProperty("url").GetString() == $"http://{namespaces.AddressOf(n.GetProperty("id").GetInt32())}:{HttpPort}");
        }, 30, "node 1's dashboard shows the three hosts' nodes up");
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: a transaction across hosts, the merged logs and the dashboard reach every host");

        // The fault layer: host 3 cut off; the majority goes on writing, host 3 gets the write after the heal. The partition
        // is set as a user on another machine would: the CLI pointed at host 1 (it finds the other hosts through host 1's
        // /status), with the admin token; the heal through node 2's dashboard, which passes it to every host with its own token.
        var cli = new Dictionary<string, string?> { ["DISTSYS_ENDPOINT"] = $"http://{namespaces.AddressOf(1)}:{HttpPort}", ["DISTSYS_ADMIN_TOKEN"] = AdminToken };
        var (partitionCode, partitionOut) = await ProcessCluster.RunCliAsync(["fault", "partition", "1,2/3"], environment: cli);
        output.WriteLine(partitionOut);
        Assert.True(partitionCode == 0, partitionOut);
        for (var i = 1; i <= Hosts; i++)
            Assert.Contains("\"partitions\":[[1,2],[3]]", (await Send(i, HttpMethod.Get, "/status")).Body);
        await Write(1, "b", "2");
        Assert.NotEqual((200, "2"), await TryGet(3, "b"));
        var (healCode, heal) = await Send(2, HttpMethod.Delete, "/dashboard/faults");
        Assert.True(healCode == 200, $"the heal through node 2's dashboard: {healCode} {heal}");
        Assert.Contains("installed on nodes 1,2,3", heal);
        await Read(3, "b", "2", 90);
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: fault-layer partition of host 3 healed");

        // Real packet drops: iptables inside host 3's namespace drops everything to and from the other hosts.
        var (hasIptables, why) = namespaces.TryExec(3, "iptables", "-L -n");
        if (!hasIptables)
        {
            output.WriteLine($"SKIPPED the packet-drop part: iptables does not work inside a namespace here: {why.Trim()}");
            return;
        }
        foreach (var other in new[] { 1, 2 })
        {
            namespaces.Exec(3, "iptables", $"-A INPUT -s {namespaces.AddressOf(other)} -j DROP");
            namespaces.Exec(3, "iptables", $"-A OUTPUT -d {namespaces.AddressOf(other)} -j DROP");
        }
        await Write(1, "c", "3");
        // Host 3 still answers its own HTTP (the test's address is not dropped), but cannot confirm a linearizable read.
        Assert.NotEqual((200, "3"), await TryGet(3, "c"));
        namespaces.Exec(3, "iptables", "-F");
        await Read(3, "c", "3", 120);
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: iptables partition of host 3 healed");

        // Random loss: 30% of host 3's incoming packets dropped; writes through it still get through (TCP retransmits).
        namespaces.Exec(3, "iptables", "-A INPUT -m statistic --mode random --probability 0.3 -j DROP");
        await Write(3, "d", "4", 90);
        // The rule did drop packets (its counter), and the write still got through.
        var counters = namespaces.Exec(3, "iptables", "-L INPUT -v -n -x");
        var dropped = counters.Split('\n').Select(l => l.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 2 && f[2] == "DROP").Select(f => long.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture)).Sum();
        output.WriteLine($"packets dropped on host 3 by the random-loss rule: {dropped}");
        Assert.True(dropped > 0, $"the random-loss rule dropped no packet:\n{counters}");
        namespaces.Exec(3, "iptables", "-F");
        await Read(1, "d", "4");
        await Read(3, "d", "4");
        output.WriteLine($"{watch.Elapsed.TotalSeconds:0.0} s: writes through host 3 under 30% packet loss");
    }
}
