using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Leader election on three real processes: a lease holder (a real `distsys election hold` client process) paused past
/// its TTL with SIGSTOP, whose late write the fenced register refuses and the plain key-value store takes; Bully's and
/// Akka.Cluster's leaders on both sides of a partition, with the Cluster Singleton on one side only.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class ElectionProcessTests(ClusterOfThree fixture, ITestOutputHelper output)
{
    private ProcessCluster Cluster => fixture.Cluster;

    private async Task<(int Code, string Body)> SendAsync(int node, HttpMethod method, string path, string? body = null, string? fencingToken = null)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Cluster.HttpBasePort + node}"), Timeout = TimeSpan.FromSeconds(15) };
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8) };
        if (fencingToken is not null) request.Headers.Add("Fencing-Token", fencingToken);
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The node's /status election object; empty while the node cannot answer (e.g. restarting after it was downed).</summary>
    private async Task<JsonObject> ElectionStatusAsync(int node)
    {
        var (code, body) = await SendAsync(node, HttpMethod.Get, "/status");
        return code == 200 && JsonNode.Parse(body)?["election"] is JsonObject e ? e : new JsonObject();
    }

    private static string? StateOf(JsonObject election) => election["bully"]?["state"]?.GetValue<string>();

    private static int? IdOf(JsonObject election, string mechanism, string field) => election[mechanism]?[field]?.GetValue<int?>();

    /// <summary>Campaigns as <paramref name="candidate"/> through node 1 until it wins (the previous holder's lease must run out first); returns its token.</summary>
    private async Task<long> WinAsync(string name, string candidate)
    {
        long token = 0;
        await Cluster.AwaitAsync(async () =>
        {
            var (code, body) = await SendAsync(1, HttpMethod.Post, $"/election/{name}/campaign", $$"""{"candidate": "{{candidate}}", "ttlMs": 60000}""");
            if (code == 200) token = JsonNode.Parse(body)!["token"]!.GetValue<long>();
            return code == 200;
        }, TimeSpan.FromSeconds(30), $"{candidate} wins {name}");
        return token;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_lease_holder_paused_past_its_ttl_has_its_late_write_refused_by_the_fenced_register_and_corrupts_a_plain_key(bool fenced)
    {
        await fixture.EnsureRunningAsync();
        var suffix = fenced ? "fenced" : "plain";
        string name = $"lock-{suffix}", key = $"register-{suffix}";
        using var holder = HoldClient.Start(Cluster, name, "A", ttlMs: 2_000, key, unfenced: !fenced);
        Cluster.AddLogSource($"holder A ({suffix})", holder.Output);

        var won = await holder.AwaitLineAsync(l => l.StartsWith("won token ", StringComparison.Ordinal), "A wins the lease");
        var tokenA = long.Parse(won.Split(' ')[2], CultureInfo.InvariantCulture);
        holder.Write("a1");
        await holder.AwaitLineAsync(l => l == "write accepted: a1", "A's first write is accepted");

        holder.Pause(); // SIGSTOP: the holder is frozen with its token in memory, as a long GC pause would leave it
        await Cluster.AwaitAsync(async () => (await SendAsync(2, HttpMethod.Get, $"/election/{name}")).Code == 404,
            TimeSpan.FromSeconds(30), "A's lease runs out by the replicated leader clock");
        var tokenB = await WinAsync(name, "B");
        Assert.True(tokenB > tokenA, $"B's token {tokenB} is not above A's {tokenA}");
        var path = fenced ? $"/fenced/{key}" : $"/kv/{key}";
        Assert.Equal(200, (await SendAsync(2, HttpMethod.Put, path, "b1", fenced ? tokenB.ToString(CultureInfo.InvariantCulture) : null)).Code);

        holder.Write("a-late"); // A resumes believing it still holds the lease, and writes
        holder.Resume();
        var late = await holder.AwaitLineAsync(l => l.Contains("a-late", StringComparison.Ordinal) || l.StartsWith("write refused", StringComparison.Ordinal), "A's late write is answered");
        output.WriteLine(holder.Output());

        var (code, value) = await SendAsync(3, HttpMethod.Get, path);
        Assert.Equal(200, code);
        if (fenced)
        {
            Assert.StartsWith("write refused (409)", late);
            Assert.Equal(tokenB, JsonNode.Parse(late[(late.IndexOf('{'))..])!["highestToken"]!.GetValue<long>());
            Assert.Equal("b1", value); // the new holder's write stands
        }
        else
        {
            Assert.Equal("write accepted: a-late", late);
            Assert.Equal("a-late", value); // the plain store cannot tell: the paused holder overwrote the new holder's write
        }
    }

    [Fact]
    public async Task The_cli_campaigns_is_refused_while_another_holds_the_lease_resigns_and_prints_every_nodes_leaders()
    {
        await fixture.EnsureRunningAsync();
        var (code, won) = await Cluster.CliAsync("election", "campaign", "cli-lock", "--candidate", "7", "--ttl-ms", "60000");
        output.WriteLine(won);
        Assert.Equal(0, code);
        var token = JsonNode.Parse(won)!["token"]!.GetValue<long>();
        Assert.Equal(7, JsonNode.Parse(won)!["leader"]!.GetValue<int>()); // an integer candidate is answered as one

        var (refusedCode, refused) = await Cluster.CliAsync("election", "campaign", "cli-lock", "--candidate", "other");
        Assert.Equal(3, refusedCode);
        Assert.Equal(token, JsonNode.Parse(refused)!["token"]!.GetValue<long>());
        Assert.Equal(0, (await Cluster.CliAsync("election", "resign", "cli-lock", "--candidate", "7", "--token", $"{token}")).Code);
        Assert.Equal(2, (await Cluster.CliAsync("election", "status", "cli-lock")).Code); // no holder

        var (bullyCode, bully) = await Cluster.CliAsync("bully", "status");
        output.WriteLine(bully);
        Assert.Equal(0, bullyCode);
        Assert.Equal(3, bully.Split('\n').Count(l => l.StartsWith("node ", StringComparison.Ordinal) && l.Contains("bully", StringComparison.Ordinal)));
        var (_, views) = await Cluster.CliAsync("election", "status");
        Assert.Contains("akka leader", views);
    }

    [Fact]
    public async Task Under_a_2_1_partition_Bully_and_Akka_Cluster_each_name_a_leader_on_both_sides_while_the_singleton_runs_on_one_side_only()
    {
        await fixture.EnsureRunningAsync();
        // The minority is the singleton's host: the singleton must leave it, and only once the resolver has downed it.
        var (minority, incarnation) = await SingletonProcessTests.SettledSingletonAsync(Cluster);
        int[] majority = [.. new[] { 1, 2, 3 }.Where(id => id != minority)];
        await Cluster.AwaitAsync(async () =>
        {
            foreach (var id in new[] { 1, 2, 3 })
                if (IdOf(await ElectionStatusAsync(id), "bully", "leaderId") != 3) return false;
            return true;
        }, TimeSpan.FromSeconds(30), "every node follows Bully coordinator 3");
        var ledger = new SingletonLedger(Cluster);
        var from = ledger.Incarnations().Count;
        output.WriteLine($"partition {{{string.Join(",", majority)}}} | {{{minority}}}; singleton {incarnation} on node {minority}");

        try
        {
            foreach (var id in new[] { 1, 2, 3 })
                Assert.Equal(200, (await SendAsync(id, HttpMethod.Post, "/admin/faults", $$"""{"partitions": [[{{majority[0]}}, {{majority[1]}}], [{{minority}}]]}""")).Code);

            // Bully: each side's highest id coordinates it: two coordinators at once.
            await Cluster.AwaitAsync(async () =>
                StateOf(await ElectionStatusAsync(minority)) == "Leader" && StateOf(await ElectionStatusAsync(majority[1])) == "Leader"
                && IdOf(await ElectionStatusAsync(majority[0]), "bully", "leaderId") == majority[1],
                TimeSpan.FromSeconds(30), $"Bully has a coordinator on each side ({majority[1]} and {minority})");

            // Akka.Cluster: the leader is a function of each side's view, so each side names one of its own once it sees the other
            // unreachable, before the Split Brain Resolver acts. The singleton stays where it was meanwhile: the minority still hosts it.
            await Cluster.AwaitAsync(async () =>
            {
                var (alone, many) = (await ElectionStatusAsync(minority), await ElectionStatusAsync(majority[0]));
                return IdOf(alone, "akka", "leaderId") == minority && majority.Contains(IdOf(many, "akka", "leaderId") ?? 0)
                    && MemberStatusOf(await StatusAsync(majority[0]), minority) == "Up";
            }, TimeSpan.FromSeconds(30), "Akka.Cluster has a leader on each side before the Split Brain Resolver acts");
            Assert.Equal(1, IdOf(await ElectionStatusAsync(minority), "akka", "singletonInstances"));
            output.WriteLine($"before the resolver acts: Akka leaders {minority} and one of {string.Join(",", majority)}; the singleton still on {minority}");

            // Keep-majority downs the minority; only then does the majority start the singleton, on one of its own.
            await Cluster.AwaitAsync(async () =>
            {
                var status = await StatusAsync(majority[0]);
                var seen = MemberStatusOf(status, minority);
                return seen is "Down" or "Removed" or "absent";
            }, TimeSpan.FromSeconds(60), $"the Split Brain Resolver downs the minority (node {minority})");
            await Cluster.AwaitAsync(async () =>
            {
                var e = await ElectionStatusAsync(majority[0]);
                return majority.Contains(IdOf(e, "akka", "leaderId") ?? 0) && majority.Contains(IdOf(e, "akka", "singletonNodeId") ?? 0);
            }, TimeSpan.FromSeconds(60), "after the downing, the majority's leader and singleton host are on its side");
            var written = ledger.Incarnations();
            Assert.False(SingletonLedger.AnyOverlap(written, from), "two singleton instances wrote the ledger at once: " +
                string.Join(" ", written.Skip(from).Distinct()));
            Assert.Contains(written.Skip(from), i => i != incarnation); // the new instance has written: the check above saw both
        }
        finally
        {
            await Cluster.HealAllAsync();
        }
    }

    private async Task<JsonNode?> StatusAsync(int node)
    {
        var (code, body) = await SendAsync(node, HttpMethod.Get, "/status");
        return code == 200 ? JsonNode.Parse(body) : null;
    }

    private static string MemberStatusOf(JsonNode? status, int id) => SingletonProcessTests.MemberStatus(status, id);
}
