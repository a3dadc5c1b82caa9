using System.Text;
using System.Text.Json;
using DistSysActors.Core.Transactions.Replicated;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>Three real nodes in replicated transaction mode (<c>--set distsys.txn.mode=replicated</c>), started once for the class.</summary>
public sealed class ReplicatedTxnCluster : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);

    public ProcessCluster Cluster { get; } = new(3) { NodeArgs = ["--set", "distsys.txn.mode=replicated", "--set", $"distsys.txn.replicated-election-timeout-ms={ElectionTimeoutMs}"] };

    /// <summary>Long enough for Raft to stay stable while one node's traffic is delayed by <see cref="ReplicatedTxnProcessTests.DelayMs"/>.</summary>
    public const int ElectionTimeoutMs = 5_000;
    private bool _started;

    /// <summary>Starts the cluster once; later tests get every node running again and no faults, whatever the test before them left.</summary>
    public async Task EnsureRunningAsync()
    {
        if (!_started)
        {
            Cluster.StartAll();
            _started = true;
        }
        Cluster.RestartExited();
        await Cluster.HealAllAsync();
        await Cluster.AwaitAsync(Cluster.AllReadyAsync, Ready, "every node answers /health/ready with 200");
    }

    public void Dispose() => Cluster.Dispose();
}

/// <summary>What the replicated-mode process test classes share: their cluster, keys by shard, requests written to the output.</summary>
public abstract class ReplicatedTxnTestsBase(ReplicatedTxnCluster fixture, ITestOutputHelper output) : IClassFixture<ReplicatedTxnCluster>
{
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly TxnGroups Groups = new(3);

    protected ReplicatedTxnCluster Fixture => fixture;
    protected ITestOutputHelper Output => output;
    protected ProcessCluster Cluster => fixture.Cluster;

    /// <summary>A key of shard <paramref name="shard"/> (1-based) of the cluster's three shards.</summary>
    protected static string KeyOn(int shard, string prefix)
    {
        for (var i = 0; ; i++)
            if (Groups.Partitioner.OwnerOf($"{prefix}{i}") == TxnGroups.Shard(shard)) return $"{prefix}{i}";
    }

    /// <summary>Sends a request to node <paramref name="node"/> and writes it and its answer to the test's output.</summary>
    protected async Task<(int Code, string Body)> SendAsync(int node, HttpMethod method, string path, string? json = null)
    {
        using var client = Cluster.Client(node);
        var (code, body) = await client.SendAsync(method, path, json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"));
        output.WriteLine($"{method} {path} at node {node}: {code} {body}");
        return (code, body);
    }

    /// <summary>Node <paramref name="node"/>'s <c>/status.txn</c>.</summary>
    protected async Task<JsonElement> TxnStatusAsync(int node) =>
        JsonDocument.Parse((await SendAsync(node, HttpMethod.Get, "/status")).Body).RootElement.GetProperty("txn").Clone();
}

/// <summary>
/// Replicated mode on real processes: kill -9 of the node leading the coordinating group after both shards voted YES
/// blocks nobody. Another node takes the group over from its replicated log and finishes the transaction, the same
/// outcome on every shard and the locks released, while the killed node stays down.
/// </summary>
public sealed class ReplicatedTxnProcessTests(ReplicatedTxnCluster fixture, ITestOutputHelper output) : ReplicatedTxnTestsBase(fixture, output)
{
    /// <summary>
    /// The coordinating leader's delay: each Raft commit it needs waits for it, so the YES votes wait at least this long for
    /// its decision, a window the test's polling of three nodes' /status must fall into even on a quiet, fast machine.
    /// </summary>
    public const int DelayMs = 1_500;

    private static string Transfer(string from, string to, long amount) =>
        $$"""{"protocol": "2pc", "ops": [{"op": "add", "key": "{{from}}", "delta": {{-amount}}, "min": 0}, {"op": "add", "key": "{{to}}", "delta": {{amount}}}]}""";

    [Fact]
    public async Task Killing_the_coordinating_groups_leader_after_the_YES_votes_blocks_nobody_and_the_transaction_finishes_without_its_restart()
    {
        await Fixture.EnsureRunningAsync();
        string a = KeyOn(1, "ra"), b = KeyOn(2, "rb");
        // The groups elect their leaders once the nodes are up: fund when the coordinating group takes transactions.
        await Cluster.AwaitAsync(async () => (await SendAsync(1, HttpMethod.Post, "/txn",
            $$"""{"protocol": "2pc", "ops": [{"op": "put", "key": "{{a}}", "value": "100"}, {"op": "put", "key": "{{b}}", "value": "0"}]}""")).Code == 200, Wait, "funding committed");
        var status = await TxnStatusAsync(1);
        Assert.Equal("replicated", status.GetProperty("mode").GetString());
        var leader = status.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("name").GetString() == "coordinator").GetProperty("leader").GetInt32();
        var client = leader % 3 + 1;
        var witness = 6 - leader - client;

        // The coordinating leader's traffic is slowed (well under the groups' election timeout): it hears the votes, then is killed before its decision commits.
        Assert.Equal(200, (await SendAsync(leader, HttpMethod.Post, "/admin/faults", $$"""{"delayMs": [{{DelayMs}}, {{DelayMs}}]}""")).Code);
        var pending = SendAsync(client, HttpMethod.Post, "/txn", Transfer(a, b, 30));
        string? id = null;
        await Cluster.AwaitAsync(async () =>
        {
            var inDoubt = new Dictionary<string, string>();
            foreach (var node in new[] { 1, 2, 3 })
                foreach (var g in (await TxnStatusAsync(node)).GetProperty("groups").EnumerateArray().Where(g => g.GetProperty("acting").GetBoolean()))
                    foreach (var d in g.GetProperty("inDoubt").EnumerateArray())
                        inDoubt[g.GetProperty("name").GetString()!] = d.GetProperty("id").GetString()!;
            if (inDoubt.GetValueOrDefault("shard-1") is not { } x || inDoubt.GetValueOrDefault("shard-2") != x) return false;
            id = x;
            return true;
        }, Wait, "both shards prepared the transfer");
        Cluster.Kill(leader);
        Output.WriteLine($"killed node {leader}, which led the coordinating group, with {id} prepared on both shards");

        // Nobody waits for the killed node: another node leads the coordinating group and decides, the shards follow.
        var answer = await pending;
        Assert.Contains(answer.Code, new[] { 200, 409, 503 });
        string? state = null;
        await Cluster.AwaitAsync(async () =>
        {
            var (code, body) = await SendAsync(witness, HttpMethod.Get, $"/txn/{id}");
            if (code != 200) return false;
            state = JsonDocument.Parse(body).RootElement.GetProperty("state").GetString();
            return state is "committed" or "aborted";
        }, Wait, $"{id} decided without node {leader}");
        await Cluster.AwaitAsync(async () =>
        {
            var s = await TxnStatusAsync(witness);
            var groups = s.GetProperty("groups").EnumerateArray().ToList();
            return groups.All(g => g.TryGetProperty("leader", out var l) && l.ValueKind == JsonValueKind.Number && l.GetInt32() != leader)
                && groups.All(g => g.GetProperty("inDoubt").GetArrayLength() == 0);
        }, Wait, "every group led by a surviving node, nothing in doubt");
        Assert.True(Cluster.HasExited(leader));
        var (av, bv) = ((await SendAsync(witness, HttpMethod.Get, $"/txn/kv/{a}")).Body, (await SendAsync(witness, HttpMethod.Get, $"/txn/kv/{b}")).Body);
        Assert.Equal(state == "committed" ? ("70", "30") : ("100", "0"), (av, bv));
        var view = JsonDocument.Parse((await SendAsync(client, HttpMethod.Get, $"/txn/{id}")).Body).RootElement;
        Assert.All(view.GetProperty("participants").EnumerateArray(), p => Assert.Equal(state, p.GetProperty("state").GetString()));

        // The locks are free: the next transfer on the same keys commits, still without the killed node.
        Assert.Equal(200, (await SendAsync(witness, HttpMethod.Post, "/txn", Transfer(a, b, 1))).Code);
    }
}
