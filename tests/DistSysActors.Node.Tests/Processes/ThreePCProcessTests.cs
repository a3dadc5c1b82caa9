using System.Text;
using System.Text.Json;
using DistSysActors.Core;
using DistSysActors.Core.Transactions;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// 3PC on three real nodes (the shared cluster), as the README's walk-throughs run it: after a kill -9 of the
/// coordinator between the YES votes and PreCommit the participants terminate the transaction among themselves and
/// release its locks while the coordinator is still down; under a partition that cuts one participant off before its
/// PreCommit arrives, one side commits and the other aborts. Every fault is undone before a test ends.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class ThreePCProcessTests(ClusterOfThree fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly TxnPartitioner Owners = new([new NodeId(1), new NodeId(2), new NodeId(3)]);
    private ProcessCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task ThreePC_participants_terminate_and_release_their_locks_while_the_killed_coordinator_is_down()
    {
        await fixture.EnsureRunningAsync();
        string a = KeyOn(2, "3pc-kill-a"), b = KeyOn(3, "3pc-kill-b");
        Assert.Equal(200, (await PostAsync(1, Puts((a, "100"), (b, "0")))).Code);

        // The participants' votes travel slowly: node 1 is killed after both prepared, before it hears a vote.
        await FaultsAsync("{\"delayMs\": [4000, 5000]}", 2, 3);
        var pending = PostAsync(1, Transfer(a, b, 30));
        var id = await AwaitInDoubtAsync("prepared", "both participants prepared the transfer", 2, 3);
        Cluster.Kill(1);
        await Assert.ThrowsAnyAsync<Exception>(() => pending);
        await FaultsAsync(null, 2, 3);

        // Without the coordinator: each participant times out (decision-timeout-ms), polls the other, finds nobody
        // pre-committed, aborts and releases its locks. 2PC would still block here.
        await Cluster.AwaitAsync(async () => await InDoubtAsync(2) is [] && await InDoubtAsync(3) is [], Wait, $"no participant is in doubt about {id} any more");
        Assert.True(Cluster.HasExited(1), "the coordinator is still down");
        Assert.Equal(("100", "0"), (await GetAsync(2, $"/txn/kv/{a}"), await GetAsync(3, $"/txn/kv/{b}")));
        // The locks are free: no lock wait, no NO vote. Messages the fault layer delayed before the heal may still hold up
        // the link for a few seconds, so a transfer that only missed its vote timeout is asked again.
        var (code, after, _) = await PostAsync(2, Transfer(a, b, 30, "2pc"));
        for (var attempt = 1; code == 409 && attempt < 5 && after.GetProperty("reason").GetString()!.Contains("not every participant voted", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1)); // a retry pause: the link drains on its own schedule
            (code, after, _) = await PostAsync(2, Transfer(a, b, 30, "2pc"));
        }
        Assert.Equal(200, code);
        Assert.Equal("committed", after.GetProperty("outcome").GetString());

        // The restarted coordinator learns the participants' outcome instead of deciding again.
        Cluster.Start(1);
        await Cluster.AwaitAsync(async () => (await GetAsync(3, $"/txn/{id}")).Contains("\"state\":\"aborted\"", StringComparison.Ordinal), Wait,
            $"the restarted coordinator reports {id} aborted");
        Assert.Equal(("70", "30"), (await GetAsync(1, $"/txn/kv/{a}"), await GetAsync(1, $"/txn/kv/{b}")));
    }

    [Fact]
    public async Task ThreePC_under_a_partition_commits_on_one_side_and_aborts_on_the_other()
    {
        await fixture.EnsureRunningAsync();
        // The coordinator's traffic is slow (1.8 s): the participants prepare at once their PREPARE arrives, and PreCommit
        // follows 1.8 s later. Node 3 is cut off in between: node 2 pre-commits (and commits: its own termination sees
        // itself pre-committed, the coordinator commits at its PreCommit timeout), node 3, uncertain and alone, aborts.
        // A run that misses the window ends the same on both sides; the next attempt uses fresh keys.
        for (var attempt = 1; ; attempt++)
        {
            string dave = KeyOn(2, $"3pc-div{attempt}-dave"), alice = KeyOn(3, $"3pc-div{attempt}-alice");
            Assert.Equal(200, (await PostAsync(1, Puts((dave, "100"), (alice, "0")))).Code);
            await FaultsAsync("{\"delayMs\": [1800, 1800]}", 1);
            var pending = PostAsync(1, Transfer(dave, alice, 30));
            var id = await AwaitInDoubtAsync("prepared", "node 3 prepared the transfer", 3);
            await FaultsAsync("{\"partitions\": [[1, 2], [3]]}", 3, 1, 2);
            var (code, answer, _) = await pending;
            await Cluster.AwaitAsync(async () => await InDoubtAsync(2) is [] && await InDoubtAsync(3) is [], Wait, $"both participants decided {id}");
            await FaultsAsync(null, 1, 2, 3);
            // Healing repairs nothing: each side keeps what it decided.
            await Cluster.AwaitAsync(async () => !(await GetAsync(1, $"/txn/{id}")).Contains("\"state\":\"precommitted\"", StringComparison.Ordinal), Wait, $"the coordinator finished {id}");
            var (daveNow, aliceNow) = (await GetAsync(1, $"/txn/kv/{dave}"), await GetAsync(1, $"/txn/kv/{alice}"));
            output.WriteLine($"attempt {attempt}: {id} answered {code} {answer}; {dave} = {daveNow}, {alice} = {aliceNow}");
            if (daveNow == "70" && aliceNow == "0")
            {
                Assert.Equal(200, code); // the client was told "committed", and the money is gone
                Assert.Contains("\"state\":\"committed\"", await GetAsync(2, $"/txn/{id}"), StringComparison.Ordinal);
                return;
            }
            Assert.True((daveNow, aliceNow) is ("100", "0") or ("70", "30"), $"a run that missed the window is consistent: {daveNow}/{aliceNow}");
            Assert.True(attempt < 4, "the partition never fell between node 3's vote and its PreCommit in 4 attempts");
        }
    }

    private static string KeyOn(int node, string prefix)
    {
        for (var i = 0; ; i++)
            if (Owners.OwnerOf($"{prefix}{i}") == new NodeId(node)) return $"{prefix}{i}";
    }

    private static object Puts(params (string Key, string Value)[] puts) =>
        new { protocol = "2pc", ops = puts.Select(p => new { op = "put", key = p.Key, value = p.Value }).ToArray() };

    private static object Transfer(string from, string to, long amount, string protocol = "3pc") => new
    {
        protocol,
        ops = new object[] { new { op = "add", key = from, delta = -amount, min = 0 }, new { op = "add", key = to, delta = amount } },
    };

    private async Task<(int Code, JsonElement Body, bool Replayed)> PostAsync(int node, object body)
    {
        using var client = Cluster.Client(node);
        var (code, text, replayed) = await client.SendAsync(HttpMethod.Post, "/txn", new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"), null);
        output.WriteLine($"POST /txn at node {node}: {code} {text}");
        return (code, JsonDocument.Parse(text).RootElement.Clone(), replayed);
    }

    private async Task<string> GetAsync(int node, string path)
    {
        using var client = Cluster.Client(node);
        return (await client.SendAsync(HttpMethod.Get, path)).Body;
    }

    /// <summary>Posts a fault spec (null: heals) to each node given, in that order.</summary>
    private async Task FaultsAsync(string? spec, params int[] nodes)
    {
        foreach (var node in nodes)
        {
            using var client = Cluster.Client(node);
            var (code, body) = spec is null ? await client.SendAsync(HttpMethod.Delete, "/admin/faults")
                : await client.SendAsync(HttpMethod.Post, "/admin/faults", new StringContent(spec, Encoding.UTF8, "application/json"));
            Assert.True(code == 200, $"faults at node {node}: {code} {body}");
        }
    }

    /// <summary>
    /// The ids and states of node <paramref name="node"/>'s in-doubt transactions. A /status without them (the module
    /// did not answer in time on a loaded machine) throws a JsonException, which <see cref="ProcessCluster.AwaitAsync"/> polls past.
    /// </summary>
    private async Task<(string Id, string State)[]> InDoubtAsync(int node)
    {
        if (!JsonDocument.Parse(await GetAsync(node, "/status")).RootElement.TryGetProperty("txn", out var status) || status.ValueKind != JsonValueKind.Object)
            throw new JsonException($"node {node}'s /status has no txn object yet");
        return [.. status.GetProperty("inDoubt").EnumerateArray().Select(d => (d.GetProperty("id").GetString()!, d.GetProperty("state").GetString()!))];
    }

    /// <summary>Waits until every node given is in doubt, in <paramref name="state"/>, about one transaction node 1 coordinates; its id.</summary>
    private async Task<string> AwaitInDoubtAsync(string state, string description, params int[] nodes)
    {
        string? id = null;
        await Cluster.AwaitAsync(async () =>
        {
            var sets = new List<IEnumerable<string>>();
            foreach (var n in nodes) sets.Add((await InDoubtAsync(n)).Where(d => d.State == state && d.Id.StartsWith("1-", StringComparison.Ordinal)).Select(d => d.Id));
            id = sets.Aggregate((x, y) => x.Intersect(y)).FirstOrDefault();
            return id is not null;
        }, Wait, description);
        return id!;
    }
}
