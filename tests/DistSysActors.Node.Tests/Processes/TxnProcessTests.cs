using System.Text;
using System.Text.Json;
using DistSysActors.Core;
using DistSysActors.Core.Transactions;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Distributed transactions on three real nodes (the shared cluster): 2PC blocks its participants, locks held, while
/// its coordinator is killed with kill -9 between the YES votes and the decision, and finishes once it restarts; sagas
/// commit and compensate; Idempotency-Key and bad input on POST /txn.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class TxnProcessTests(ClusterOfThree fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private ProcessCluster Cluster => fixture.Cluster;

    private static readonly TxnPartitioner Owners = new([new NodeId(1), new NodeId(2), new NodeId(3)]);

    private static string KeyOn(int node, string prefix)
    {
        for (var i = 0; ; i++)
            if (Owners.OwnerOf($"{prefix}{i}") == new NodeId(node)) return $"{prefix}{i}";
    }

    private async Task<(int Code, JsonElement Body, bool Replayed)> PostAsync(int node, object body, string? idempotencyKey = null)
    {
        using var client = Cluster.Client(node);
        var (code, text, replayed) = await client.SendAsync(HttpMethod.Post, "/txn", new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"), idempotencyKey);
        output.WriteLine($"POST /txn at node {node}: {code} {text}");
        return (code, JsonDocument.Parse(text).RootElement.Clone(), replayed);
    }

    private async Task<(int Code, string Body)> GetAsync(int node, string path)
    {
        using var client = Cluster.Client(node);
        return await client.SendAsync(HttpMethod.Get, path);
    }

    private async Task<JsonElement> TxnStatusAsync(int node) => JsonDocument.Parse((await GetAsync(node, "/status")).Body).RootElement.GetProperty("txn").Clone();

    private static object Transfer(string protocol, string from, string to, long amount) => new
    {
        protocol,
        ops = new object[] { new { op = "add", key = from, delta = -amount, min = 0 }, new { op = "add", key = to, delta = amount } },
    };

    [Fact]
    public async Task TwoPC_blocks_its_participants_with_their_locks_while_the_coordinator_is_killed_and_finishes_after_its_restart()
    {
        await fixture.EnsureRunningAsync();
        string a = KeyOn(2, "blk-a"), b = KeyOn(3, "blk-b");
        var (fundCode, fund, _) = await PostAsync(1, new { protocol = "2pc", ops = new object[] { new { op = "put", key = a, value = "100" }, new { op = "put", key = b, value = "0" } } });
        Assert.Equal(200, fundCode);
        var view = JsonDocument.Parse((await GetAsync(3, $"/txn/{fund.GetProperty("id").GetString()}")).Body).RootElement; // from a node that did not coordinate it
        Assert.Equal("committed", view.GetProperty("state").GetString());
        Assert.Equal([2, 3], view.GetProperty("participants").EnumerateArray().Select(p => p.GetProperty("nodeId").GetInt32()).Order().ToArray());

        // The participants' YES votes travel slowly: node 1 is killed after both prepared, before it hears a vote.
        foreach (var node in new[] { 2, 3 })
        {
            using var client = Cluster.Client(node);
            Assert.Equal(200, (await client.SendAsync(HttpMethod.Post, "/admin/faults", new StringContent("{\"delayMs\": [4000, 5000]}", Encoding.UTF8, "application/json"))).Code);
        }
        var pending = PostAsync(1, Transfer("2pc", a, b, 30));
        string? id = null;
        await Cluster.AwaitAsync(async () =>
        {
            var inDoubt = new[] { await TxnStatusAsync(2), await TxnStatusAsync(3) }.Select(s => s.GetProperty("inDoubt").EnumerateArray().Select(d => d.GetProperty("id").GetString()).ToList()).ToList();
            id = inDoubt[0].Intersect(inDoubt[1]).FirstOrDefault(x => x!.StartsWith("1-", StringComparison.Ordinal));
            return id is not null;
        }, Wait, "both participants prepared the transfer");
        Cluster.Kill(1);
        await Assert.ThrowsAnyAsync<Exception>(() => pending);
        foreach (var node in new[] { 2, 3 })
        {
            using var client = Cluster.Client(node);
            Assert.Equal(200, (await client.SendAsync(HttpMethod.Delete, "/admin/faults")).Code);
        }

        // Blocked: well past the decision timeout (1.5 s, after which they ask the dead coordinator and each other) both
        // are still prepared, holding their locks; the values are unchanged.
        JsonElement blocked = default;
        await Cluster.AwaitAsync(async () =>
        {
            blocked = (await TxnStatusAsync(2)).GetProperty("inDoubt").EnumerateArray().Single(d => d.GetProperty("id").GetString() == id);
            return blocked.GetProperty("ageMs").GetInt64() >= 3_000;
        }, Wait, $"transaction {id} is in doubt at node 2 for 3 s");
        Assert.Equal("prepared", blocked.GetProperty("state").GetString());
        Assert.Equal(a, Assert.Single(blocked.GetProperty("locks").EnumerateArray()).GetString());
        Assert.Contains((await TxnStatusAsync(3)).GetProperty("inDoubt").EnumerateArray(), d => d.GetProperty("id").GetString() == id);
        Assert.Equal("100", (await GetAsync(3, $"/txn/kv/{a}")).Body);
        Assert.Equal(503, (await GetAsync(2, $"/txn/{id}")).Code); // its coordinator is down: nobody knows the outcome

        // A conflicting transaction waits for the lock, then is refused.
        var (conflictCode, conflict, _) = await PostAsync(2, Transfer("2pc", a, b, 1));
        Assert.Equal(409, conflictCode);
        Assert.Contains("lock wait timed out", conflict.GetProperty("reason").GetString());

        // The restarted coordinator finishes its log: no COMMIT record, so presumed abort releases everyone.
        Cluster.Start(1);
        await Cluster.AwaitAsync(async () => (await GetAsync(2, $"/txn/{id}")) is { Code: 200 } r && r.Body.Contains("\"state\":\"aborted\"", StringComparison.Ordinal),
            Wait, $"transaction {id} is aborted");
        await Cluster.AwaitAsync(async () => (await TxnStatusAsync(2)).GetProperty("inDoubt").GetArrayLength() == 0 && (await TxnStatusAsync(3)).GetProperty("inDoubt").GetArrayLength() == 0,
            Wait, "no participant is in doubt any more");
        Assert.Equal(("100", "0"), ((await GetAsync(1, $"/txn/kv/{a}")).Body, (await GetAsync(1, $"/txn/kv/{b}")).Body));
        // With the locks free, the transfer goes through.
        Assert.Equal(200, (await PostAsync(2, Transfer("2pc", a, b, 30))).Code);
        Assert.Equal(("70", "30"), ((await GetAsync(2, $"/txn/kv/{a}")).Body, (await GetAsync(2, $"/txn/kv/{b}")).Body));
    }

    [Fact]
    public async Task Sagas_commit_or_compensate_and_POST_txn_honours_Idempotency_Key_and_refuses_bad_input()
    {
        await fixture.EnsureRunningAsync();
        string a = KeyOn(2, "saga-a"), b = KeyOn(3, "saga-b");
        Assert.Equal(200, (await PostAsync(1, new { protocol = "saga", ops = new object[] { new { op = "put", key = a, value = "50" } } })).Code);

        var (code, first, _) = await PostAsync(3, Transfer("saga", a, b, 20), idempotencyKey: "saga-transfer-1");
        Assert.Equal(200, code);
        Assert.Equal("committed", first.GetProperty("outcome").GetString());
        var (againCode, again, replayed) = await PostAsync(3, Transfer("saga", a, b, 20), idempotencyKey: "saga-transfer-1");
        Assert.Equal((200, true), (againCode, replayed));
        Assert.Equal(first.GetProperty("id").GetString(), again.GetProperty("id").GetString());
        Assert.Equal(("30", "20"), ((await GetAsync(1, $"/txn/kv/{a}")).Body, (await GetAsync(1, $"/txn/kv/{b}")).Body));
        Assert.Equal(422, (await PostAsync(3, Transfer("saga", a, b, 5), idempotencyKey: "saga-transfer-1")).Code);

        // Debit too much: the first step is refused, nothing to compensate. Credit first, then a refused debit: compensated.
        var (overCode, over, _) = await PostAsync(1, Transfer("saga", a, b, 31));
        Assert.Equal(409, overCode);
        Assert.Equal("aborted", over.GetProperty("outcome").GetString());
        var (compCode, comp, _) = await PostAsync(1, new { protocol = "saga", ops = new object[] { new { op = "add", key = b, delta = 100 }, new { op = "add", key = a, delta = -100, min = 0 } } });
        Assert.Equal(409, compCode);
        Assert.Contains("step 1", comp.GetProperty("reason").GetString());
        Assert.Equal(("30", "20"), ((await GetAsync(2, $"/txn/kv/{a}")).Body, (await GetAsync(2, $"/txn/kv/{b}")).Body));
        var saga = JsonDocument.Parse((await GetAsync(2, $"/txn/{comp.GetProperty("id").GetString()}")).Body).RootElement;
        Assert.Equal(("saga", "aborted"), (saga.GetProperty("protocol").GetString(), saga.GetProperty("state").GetString()));

        // Bad input: 400 with a reason, nothing started. Unknown ids and keys: 404.
        foreach (var bad in new[] { "{not json", "{\"protocol\": \"4pc\", \"ops\": []}", "{\"protocol\": \"2pc\", \"ops\": []}",
                     "{\"protocol\": \"2pc\", \"ops\": [{\"op\": \"add\", \"key\": \"x\", \"delta\": \"ten\"}]}", "{\"protocol\": \"2pc\", \"ops\": [{\"op\": \"put\", \"key\": \"x\"}]}" })
        {
            using var client = Cluster.Client(2);
            var (badCode, badBody) = await client.SendAsync(HttpMethod.Post, "/txn", new StringContent(bad, Encoding.UTF8, "application/json"));
            Assert.True(badCode == 400 && badBody.Contains("error", StringComparison.Ordinal), $"{bad}: {badCode} {badBody}");
        }
        Assert.Equal(404, (await GetAsync(1, "/txn/2-999999")).Code);
        Assert.Equal(404, (await GetAsync(1, $"/txn/kv/{KeyOn(3, "never-written")}")).Code);

        // The CLI: a transfer and a show.
        var (cliCode, cliOut) = await Cluster.CliAsync("txn", "transfer", "--from", b, "--to", a, "--amount", "5", "--protocol", "2pc", "--node", "1");
        Assert.True(cliCode == 0, cliOut);
        var cliId = JsonDocument.Parse(cliOut[cliOut.IndexOf('{', StringComparison.Ordinal)..]).RootElement.GetProperty("id").GetString();
        var (showCode, showOut) = await Cluster.CliAsync("txn", "show", cliId!, "--node", "3");
        Assert.True(showCode == 0 && showOut.Contains("\"state\":\"committed\"", StringComparison.Ordinal), showOut);
        var (doubtCode, doubtOut) = await Cluster.CliAsync("txn", "in-doubt", "--node", "1");
        Assert.True(doubtCode == 0 && doubtOut.Contains("0 in doubt", StringComparison.Ordinal), doubtOut);
    }
}
