using System.Text.Json;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Reads in replicated mode on real processes, on a cluster of their own: the partition below moves the groups'
/// leaders, which the kill test of <see cref="ReplicatedTxnProcessTests"/> must not inherit.
/// </summary>
public sealed class ReplicatedTxnReadProcessTests(ReplicatedTxnCluster fixture, ITestOutputHelper output) : ReplicatedTxnTestsBase(fixture, output)
{
    /// <summary>
    /// Reads are linearizable: the node that led the key's shard, cut off from the others, does not answer with the value
    /// the majority has since overwritten, nor call the overwriting transaction unknown (it used to: a node that knew no
    /// leader answered from its own replica).
    /// </summary>
    [Fact]
    public async Task A_shard_leader_cut_off_by_a_partition_does_not_serve_a_value_the_majority_overwrote()
    {
        await Fixture.EnsureRunningAsync();
        var key = KeyOn(1, "lin");
        await Cluster.AwaitAsync(async () => (await SendAsync(1, HttpMethod.Post, "/txn",
            $$"""{"protocol": "2pc", "ops": [{"op": "put", "key": "{{key}}", "value": "100"}]}""")).Code == 200, Wait, "the first write committed");
        int? stale = null;
        await Cluster.AwaitAsync(async () =>
        {
            var shard = (await TxnStatusAsync(1)).GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("name").GetString() == "shard-1");
            stale = shard.TryGetProperty("leader", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : null;
            return stale is not null;
        }, Wait, "shard-1 has a leader");
        var majority = new[] { 1, 2, 3 }.Where(i => i != stale).ToArray();
        var partition = $$"""{"partitions": [[{{stale}}], [{{majority[0]}}, {{majority[1]}}]]}""";
        foreach (var node in new[] { 1, 2, 3 }) Assert.Equal(200, (await SendAsync(node, HttpMethod.Post, "/admin/faults", partition)).Code);

        // The majority elects its own leaders and overwrites the key.
        string? overwrite = null;
        await Cluster.AwaitAsync(async () =>
        {
            var (code, body) = await SendAsync(majority[0], HttpMethod.Post, "/txn", $$"""{"protocol": "2pc", "ops": [{"op": "put", "key": "{{key}}", "value": "55"}]}""");
            overwrite = code == 200 ? JsonDocument.Parse(body).RootElement.GetProperty("id").GetString() : null;
            return overwrite is not null;
        }, Wait, "the majority committed the overwrite");
        await Cluster.AwaitAsync(async () => await SendAsync(majority[1], HttpMethod.Get, $"/txn/kv/{key}") == (200, "55"), Wait, "the majority reads 55");

        // The cut-off node has no leadership it can confirm: it refuses rather than answer from its own, older replica
        // (or, should it have learned the majority's leader, asks that node over HTTP, which the partition does not cut).
        var (code, body) = await SendAsync(stale!.Value, HttpMethod.Get, $"/txn/kv/{key}");
        Assert.NotEqual("100", body);
        Assert.True(code == 503 || (code, body) == (200, "55"), $"GET /txn/kv/{key} on the cut-off node: {code} {body}");
        // Nor does it call the overwrite unknown: it asks the coordinating group's leader when it knows one across the
        // partition (then it cannot reach it: 503), else answers 503 itself; a proxy that got through would say committed.
        var (viewCode, view) = await SendAsync(stale.Value, HttpMethod.Get, $"/txn/{overwrite}");
        Assert.True(viewCode == 503 || (viewCode == 200 && JsonDocument.Parse(view).RootElement.GetProperty("state").GetString() == "committed"),
            $"GET /txn/{overwrite} on the cut-off node: {viewCode} {view}");
        await Cluster.HealAllAsync();
    }
}
