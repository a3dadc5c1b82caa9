using System.Text.Json;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// The limits that shape the replicated state are the cluster's, not each node's: node 1 keeps one Idempotency-Key
/// record by its own configuration, nodes 2 and 3 the default, and yet every replica applies a retried key the same way.
/// </summary>
public sealed class ReplicatedLimitsProcessTests(ITestOutputHelper output)
{
    private const string Warning = "distsys.idempotency.records-max is";

    [Fact]
    public async Task A_node_configured_with_other_limits_applies_the_clusters_and_holds_the_same_values()
    {
        using var cluster = new ProcessCluster(3);
        cluster.Start(1, "--set", "distsys.idempotency.records-max=1");
        cluster.Start(2);
        cluster.Start(3);
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(60), "all three nodes are ready");
        var leader = await cluster.LeaderAsync();
        var key = $"a-{Guid.NewGuid():N}";

        async Task<long> PutAsync(string path, string value, string? idempotencyKey)
        {
            (int Code, string Body, bool Replayed) answer = (0, "", false);
            // Resent while 503 (an election on a loaded machine): each write here is safe to resend.
            await cluster.AwaitAsync(async () =>
            {
                using var client = cluster.Client(leader);
                answer = await client.SendAsync(HttpMethod.Put, path, new StringContent(value), idempotencyKey);
                output.WriteLine($"PUT {path}={value} key {idempotencyKey ?? "-"}: {answer.Code} {answer.Body}{(answer.Replayed ? " (replayed)" : "")}");
                if (answer.Code == 503) leader = await cluster.LeaderAsync();
                return answer.Code != 503;
            }, TimeSpan.FromSeconds(20), $"PUT {path} is answered");
            Assert.Equal(200, answer.Code);
            return JsonDocument.Parse(answer.Body).RootElement.GetProperty("index").GetInt64();
        }

        // K1 is the oldest record once K2 is made: a table of one has forgotten it when K1 is retried.
        await PutAsync($"/kv/{key}", "1", "K1");
        await PutAsync($"/kv/b-{key}", "x", "K2");
        await PutAsync($"/kv/{key}", "2", null);
        await PutAsync($"/kv/{key}", "1", "K1"); // answered with K1's index when replayed: not where the retry is in the log

        // Every replica has applied the retry (committed before it was answered): read each one's own state.
        long last;
        using (var client = cluster.Client(leader)) last = (await client.StatusAsync()).Raft!.CommitIndex;
        var values = new Dictionary<int, string>();
        foreach (var node in new[] { 1, 2, 3 })
        {
            using var client = cluster.Client(node);
            await cluster.AwaitAsync(async () => (await client.StatusAsync()).Raft!.LastApplied >= last, TimeSpan.FromSeconds(20), $"node {node} applied index {last}");
            var (code, body) = await client.SendAsync(HttpMethod.Get, $"/kv/{key}?consistency=stale");
            Assert.Equal(200, code);
            values[node] = body;
        }
        output.WriteLine(string.Join(", ", values.Select(v => $"node {v.Key}: {key}={v.Value}")));
        Assert.True(values.Values.Distinct().Count() == 1, $"replicas hold different values: {string.Join(", ", values.Select(v => $"node {v.Key}={v.Value}"))}");

        // The cluster's limit is the first leader's: the nodes configured otherwise say so, and the value follows it.
        var warned = new[] { 1, 2, 3 }.Where(n => cluster.Logs(n).Contains(Warning, StringComparison.Ordinal)).ToArray();
        output.WriteLine($"nodes that warned: {string.Join(",", warned)}");
        if (warned.SequenceEqual([1])) Assert.Equal("2", values[1]);      // cluster keeps 100000 records: K1 replayed
        else if (warned.SequenceEqual([2, 3])) Assert.Equal("1", values[1]); // cluster keeps 1 record: K1 ran again
        else Assert.Fail($"expected node 1, or nodes 2 and 3, to warn about records-max; warned: [{string.Join(",", warned)}]");
    }
}
