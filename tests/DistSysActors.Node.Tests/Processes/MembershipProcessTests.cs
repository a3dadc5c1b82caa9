using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DistSysActors.Node.Http;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Raft membership changes on real `distsys node` processes: a 3-node cluster grows to 5 (nodes 4 and 5 started with
/// --join) and shrinks back to 3 (the leader removed first, then a follower) while concurrent clients write; every
/// acknowledged write must be readable afterwards and the final membership must be the 3 remaining voters. At every
/// step /health/ready counts the voters in force. Then node 6 joins and the last founding node leaves, and joined
/// node 4, killed and restarted with its arguments, finds the cluster through its known-members file and catches up.
/// </summary>
public sealed class MembershipProcessTests(ITestOutputHelper output)
{
    private const int Clients = 4;
    private const int KeysPerClient = 4;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(3);
    /// <summary>A learner's catch-up on a loaded machine can outlast the default 5 s; the admin answers wait for it.</summary>
    private static readonly string[] NodeArgs = ["--set", "distsys.http.request-timeout-ms=20000"];

    /// <summary>Per key (each written by one client, in order): the last acknowledged sequence number and every one attempted.</summary>
    private sealed class KeyHistory
    {
        public int LastAcked = -1;
        public readonly HashSet<int> Attempted = new();
    }

    [Fact]
    public async Task Grow_3_to_5_and_shrink_to_3_under_load_loses_no_acknowledged_write_then_a_restarted_joined_server_rejoins()
    {
        using var cluster = new ProcessCluster(3, idsMax: 6);
        for (var i = 1; i <= 3; i++) cluster.Start(i, NodeArgs);
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(90), "all three nodes are ready");
        var clock = Stopwatch.StartNew();

        var histories = new Dictionary<string, KeyHistory>();
        for (var c = 1; c <= Clients; c++)
            for (var k = 0; k < KeysPerClient; k++) histories[$"c{c}-k{k}"] = new KeyHistory();
        var targets = new[] { 1, 2, 3 }; // where clients send; replaced whole, never mutated
        var acks = 0;
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(1, Clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            for (var seq = 0; !stop.IsCancellationRequested; seq++)
            {
                var key = $"c{c}-k{seq % KeysPerClient}";
                var history = histories[key];
                lock (history) history.Attempted.Add(seq);
                var live = Volatile.Read(ref targets);
                var node = live[random.Next(live.Length)];
                using var client = cluster.Client(node);
                using var attempt = new CancellationTokenSource(ClientTimeout);
                try
                {
                    var (code, _) = await client.SendAsync(HttpMethod.Put, $"/kv/{key}", new StringContent($"{seq}", Encoding.UTF8), attempt.Token);
                    if (code == 200)
                    {
                        lock (history) history.LastAcked = seq;
                        Interlocked.Increment(ref acks);
                    }
                    else await Task.Delay(50);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { await Task.Delay(50); }
            }
        })).ToList();

        var mark = 0;
        Task Progress(int more) => cluster.AwaitAsync(() => Task.FromResult(Volatile.Read(ref acks) >= mark + more),
            TimeSpan.FromSeconds(60), $"the clients got {more} more writes acknowledged");
        void Mark(string what) { mark = Volatile.Read(ref acks); output.WriteLine($"t={clock.ElapsedMilliseconds} ms, {mark} acks: {what}"); }

        await Progress(30);
        Mark("load running on 3 nodes");

        // Node 4 joins through the CLI at node 1; node 5 through the HTTP API at a follower, which passes it on to the leader.
        cluster.Start(4, [.. NodeArgs, "--join"]);
        await AwaitUpAsync(cluster, 4);
        var (addCode, addOut) = await cluster.CliAsync("members", "add", "4", "--node", "1");
        Assert.True(addCode == 0, addOut);
        Assert.Contains("node 4 is a voter now", addOut);
        Volatile.Write(ref targets, [1, 2, 3, 4]);
        await AwaitQuorumCheckAsync(cluster, [1, 2, 3, 4], "ok (4/4 Raft voters)");
        Mark("node 4 added");
        await Progress(30);

        cluster.Start(5, [.. NodeArgs, "--join"]);
        await AwaitUpAsync(cluster, 5);
        var leader = await cluster.LeaderAsync([1, 2, 3, 4]);
        var follower = new[] { 1, 2, 3, 4 }.First(i => i != leader);
        var grown = await AdminAsync(cluster, follower, HttpMethod.Post, "/admin/members", """{"nodeId": 5}""");
        Assert.Equal([1, 2, 3, 4, 5], grown.Servers.Where(s => s.Voter).Select(s => s.NodeId));
        Volatile.Write(ref targets, [1, 2, 3, 4, 5]);
        await AwaitQuorumCheckAsync(cluster, [1, 2, 3, 4, 5], "ok (5/5 Raft voters)");
        Mark($"node 5 added through node {follower} (leader {leader})");
        await Progress(30);

        // Remove the leader itself, asked at a follower: it commits the change, steps down, and the others elect a leader.
        leader = await cluster.LeaderAsync([1, 2, 3, 4, 5]);
        // Only founding nodes are removed, so the joined servers stay for the restart below (an election may have moved the lead).
        if (leader > 3) leader = await TransferAsync(cluster, leader, to: 1);
        follower = new[] { 1, 2, 3, 4, 5 }.First(i => i != leader);
        var remaining = new[] { 1, 2, 3, 4, 5 }.Where(i => i != leader).ToArray();
        Volatile.Write(ref targets, remaining);
        var (removeCode, removeOut) = await cluster.CliAsync("members", "remove", $"{leader}", "--node", $"{follower}");
        Assert.True(removeCode == 0, removeOut);
        var newLeader = await cluster.LeaderAsync(remaining);
        // Still running and reachable, the removed node is not counted.
        await AwaitQuorumCheckAsync(cluster, remaining, "ok (4/4 Raft voters)");
        cluster.SignalTerminate(leader); // graceful: it leaves Akka.Cluster meanwhile
        Mark($"leader {leader} removed (new leader {newLeader}) and sent SIGTERM");
        await Progress(30);

        // Then a follower, preferably a founding node, so the final cluster holds both joined servers.
        var removed = remaining.First(i => i != newLeader && i <= 3);
        remaining = remaining.Where(i => i != removed).ToArray();
        Volatile.Write(ref targets, remaining);
        var shrunk = await AdminAsync(cluster, newLeader, HttpMethod.Delete, $"/admin/members/{removed}", null);
        Assert.DoesNotContain(shrunk.Servers, s => s.NodeId == removed);
        await AwaitQuorumCheckAsync(cluster, remaining, "ok (3/3 Raft voters)");
        cluster.SignalTerminate(removed);
        Mark($"follower {removed} removed and sent SIGTERM");
        await Progress(30);
        stop.Cancel();
        await Task.WhenAll(clients);
        Mark("clients stopped");

        // The final membership, at every remaining node: exactly the three remaining servers, all voters.
        foreach (var id in remaining)
        {
            await cluster.AwaitAsync(async () =>
            {
                using var c = cluster.Client(id);
                var raft = (await c.StatusAsync()).Raft;
                return raft?.Voters is { } voters && voters.SequenceEqual(remaining) && raft.Learners is [];
            }, TimeSpan.FromSeconds(20), $"node {id} has voters [{string.Join(",", remaining)}] and no learners");
        }
        var members = await AdminAsync(cluster, remaining[0], HttpMethod.Get, "/admin/members", null);
        Assert.Equal(remaining, members.Servers.Select(s => s.NodeId));
        Assert.All(members.Servers, s => Assert.True(s.Voter));

        // Every key holds its last acknowledged value, or a later one whose answer was lost (never an older one).
        var reader = remaining[^1];
        foreach (var (key, history) in histories)
        {
            string? value = null;
            var code = 0;
            await cluster.AwaitAsync(async () =>
            {
                using var c = cluster.Client(reader);
                (code, var body) = await c.SendAsync(HttpMethod.Get, $"/kv/{key}");
                value = code == 200 ? body : null;
                return code is 200 or 404;
            }, TimeSpan.FromSeconds(20), $"a linearizable read of {key} at node {reader} answers");
            if (history.LastAcked < 0)
            {
                Assert.True(value is null || history.Attempted.Contains(int.Parse(value, CultureInfo.InvariantCulture)), $"{key} = {value}, never written");
                continue;
            }
            Assert.True(value is not null, $"{key}: acknowledged write {history.LastAcked} lost (key absent)");
            var seq = int.Parse(value, CultureInfo.InvariantCulture);
            Assert.True(seq >= history.LastAcked && history.Attempted.Contains(seq),
                $"{key} = {seq}, but write {history.LastAcked} was acknowledged last");
        }
        output.WriteLine($"t={clock.ElapsedMilliseconds} ms: {histories.Count} keys checked, {acks} writes acknowledged in all");

        await RestartJoinedServerAsync(cluster, founding: remaining.Single(i => i <= 3));
        output.WriteLine($"t={clock.ElapsedMilliseconds} ms: node 4 restarted and caught up");
    }

    /// <summary>
    /// From voters {F, 4, 5} (F the last founding node): node 6 joins, F is removed and stops, so none of the seeds 1..3
    /// runs. Node 4, killed and restarted with the same arguments (--join included), can only find the cluster through
    /// the ids in its known-members file; it must come back as the voter it was and serve a write it missed.
    /// </summary>
    private async Task RestartJoinedServerAsync(ProcessCluster cluster, int founding)
    {
        cluster.Start(6, [.. NodeArgs, "--join"]);
        await AwaitUpAsync(cluster, 6);
        var grown = await AdminAsync(cluster, 5, HttpMethod.Post, "/admin/members", """{"nodeId": 6}""");
        Assert.Equal([founding, 4, 5, 6], grown.Servers.Where(s => s.Voter).Select(s => s.NodeId));
        await AwaitQuorumCheckAsync(cluster, [founding, 4, 5, 6], "ok (4/4 Raft voters)");
        var shrunk = await AdminAsync(cluster, 5, HttpMethod.Delete, $"/admin/members/{founding}", null);
        Assert.Equal([4, 5, 6], shrunk.Servers.Select(s => s.NodeId));
        await AwaitQuorumCheckAsync(cluster, [4, 5, 6], "ok (3/3 Raft voters)");
        cluster.Terminate(founding);
        await cluster.AwaitAsync(() => Task.FromResult(Enumerable.Range(1, 3).All(cluster.HasExited)), TimeSpan.FromSeconds(30),
            "the founding nodes 1..3 have all exited");
        var knownMembers = Path.Combine(cluster.DataDir, "node-4", "known-members");
        await cluster.AwaitAsync(() => Task.FromResult(File.Exists(knownMembers) && File.ReadAllText(knownMembers) == "4,5,6"),
            TimeSpan.FromSeconds(20), $"{knownMembers} holds the Up members 4,5,6");

        long incarnation;
        using (var c = cluster.Client(4)) incarnation = (await c.StatusAsync()).Incarnation;
        cluster.Kill(4);
        var value = $"while-4-was-down-{Guid.NewGuid():N}";
        await cluster.AwaitAsync(async () =>
        {
            using var c = cluster.Client(5);
            return (await c.SendAsync(HttpMethod.Put, "/kv/missed", new StringContent(value, Encoding.UTF8))).Code == 200;
        }, TimeSpan.FromSeconds(30), "a write through node 5 is acknowledged by voters 5 and 6");

        cluster.Start(4, [.. NodeArgs, "--join"]);
        await AwaitUpAsync(cluster, 4);
        await cluster.AwaitAsync(async () =>
        {
            using var c = cluster.Client(5);
            return (await c.StatusAsync()).Members.Count(m => m.NodeId is 4 or 5 or 6 && m.Status == "Up" && m.Reachable) == 3;
        }, TimeSpan.FromSeconds(60), "node 5 sees the restarted node 4 as an Up, reachable member");
        await cluster.AwaitAsync(async () =>
        {
            using var c = cluster.Client(4);
            var status = await c.StatusAsync();
            // Greater, not + 1: a new process that load got downed once restarts its actor system, a start more.
            return status.Raft is { Voters: [4, 5, 6], Learners: [] } && status.Incarnation > incarnation;
        }, TimeSpan.FromSeconds(30), "node 4 recovered its journal (a higher incarnation) and is a voter of [4,5,6] again");
        await cluster.AwaitAsync(async () =>
        {
            using var c = cluster.Client(4);
            return (await c.SendAsync(HttpMethod.Get, "/kv/missed?consistency=stale")) is (200, var body) && body == value;
        }, TimeSpan.FromSeconds(30), "node 4 serves the write it missed from its own state (consistency=stale)");
        await AwaitQuorumCheckAsync(cluster, [4, 5, 6], "ok (3/3 Raft voters)");
    }

    /// <summary>Waits until every one of <paramref name="ids"/> answers /health/ready with the quorumReachable check <paramref name="expected"/>.</summary>
    private static async Task AwaitQuorumCheckAsync(ProcessCluster cluster, IEnumerable<int> ids, string expected)
    {
        foreach (var id in ids)
        {
            string? last = null;
            try
            {
                await cluster.AwaitAsync(async () =>
                {
                    using var c = cluster.Client(id);
                    var (_, body) = await c.ReadyAsync();
                    last = JsonSerializer.Deserialize<HealthDto>(body, Json)!.Checks.GetValueOrDefault("quorumReachable");
                    return last == expected;
                }, TimeSpan.FromSeconds(20), $"node {id}'s /health/ready has quorumReachable \"{expected}\"");
            }
            catch (Xunit.Sdk.XunitException e) { throw new Xunit.Sdk.XunitException($"{e.Message}\nits last quorumReachable: \"{last}\""); }
        }
    }

    /// <summary>Hands Raft leadership to <paramref name="to"/>, retrying a 503 (another change in progress); returns the new leader.</summary>
    private async Task<int> TransferAsync(ProcessCluster cluster, int leader, int to)
    {
        TransferDto? done = null;
        await cluster.AwaitAsync(async () =>
        {
            using var c = new Client.NodeClient(leader, cluster.HttpBasePort + leader, timeout: TimeSpan.FromSeconds(30));
            var (code, text) = await c.SendAsync(HttpMethod.Post, "/admin/raft/transfer", new StringContent($$"""{"to": {{to}}}""", Encoding.UTF8, "application/json"));
            output.WriteLine($"  transfer from node {leader} to node {to}: HTTP {code} {text}");
            if (code == 200) done = JsonSerializer.Deserialize<TransferDto>(text, Json);
            return done is not null;
        }, TimeSpan.FromSeconds(60), $"Raft leadership moves from node {leader} to node {to}");
        return done!.LeaderId;
    }

    private static Task AwaitUpAsync(ProcessCluster cluster, int id) =>
        cluster.AwaitAsync(async () =>
        {
            if (cluster.HasExited(id))
                throw new Xunit.Sdk.XunitException($"node {id} exited: {string.Join(" | ", cluster.Logs(id).Split('\n').Where(l => l.StartsWith("node ", StringComparison.Ordinal)))}");
            using var c = cluster.Client(id);
            return (await c.StatusAsync()).SelfStatus == "Up";
        }, TimeSpan.FromSeconds(60), $"node {id} is an Up Akka.Cluster member");

    /// <summary>
    /// An admin request that must succeed. A 503 is retried (an operator's move: "not-applied" changed nothing; after
    /// "unknown" the change may have happened, and then a retry answers 409, so the membership is read instead).
    /// </summary>
    private async Task<MembersDto> AdminAsync(ProcessCluster cluster, int node, HttpMethod method, string path, string? body)
    {
        var watch = Stopwatch.StartNew();
        var unknown = false;
        while (true)
        {
            using var c = new Client.NodeClient(node, cluster.HttpBasePort + node, timeout: TimeSpan.FromSeconds(60));
            var (code, text) = await c.SendAsync(method, path, body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"));
            if (code == 200) return JsonSerializer.Deserialize<MembersDto>(text, Json)!;
            if (code == 409 && unknown && method != HttpMethod.Get) return await AdminAsync(cluster, node, HttpMethod.Get, "/admin/members", null);
            if (code != 503 || watch.Elapsed > TestTime.Scaled(TimeSpan.FromSeconds(60)))
                throw new Xunit.Sdk.XunitException($"{method} {path} at node {node}: HTTP {code} {text}");
            unknown |= text.Contains("\"unknown\"", StringComparison.Ordinal);
            output.WriteLine($"  {method} {path} at node {node} after {watch.ElapsedMilliseconds} ms: HTTP {code} {text}; retrying");
            await Task.Delay(200);
        }
    }
}
