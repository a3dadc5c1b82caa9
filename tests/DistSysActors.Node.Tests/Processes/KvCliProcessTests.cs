using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>`distsys kv` against real nodes: exit codes, a fresh Idempotency-Key per write, and retries after a lost answer.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed partial class KvCliProcessTests(ClusterOfThree fixture, ITestOutputHelper output)
{
    private ProcessCluster Cluster => fixture.Cluster;

    private async Task<(int Code, string Out)> CliAsync(Func<string[], Task<(int, string)>> run, params string[] args)
    {
        var (code, text) = await run(args);
        output.WriteLine($"$ distsys {string.Join(' ', args.Select(a => a.Length > 60 ? a[..20] + "..." : a))}  (exit {code})\n{text}");
        return (code, text);
    }

    private Task<(int Code, string Out)> CliAsync(params string[] args) => CliAsync(Cluster.CliAsync, args);

    [GeneratedRegex("""^\{"index":(\d+)\}$""")]
    private static partial Regex IndexAnswer();

    private static long IndexOf(string cliOutput)
    {
        var match = IndexAnswer().Match(cliOutput.Trim());
        Assert.True(match.Success, $"expected {{\"index\":n}} alone, got: {cliOutput}");
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Kv_cli_runs_each_write_once_with_its_own_idempotency_key_and_exits_2_when_not_found_and_3_on_a_cas_mismatch()
    {
        await fixture.EnsureRunningAsync();
        var key = $"cli-{Guid.NewGuid():N}";

        var (code, text) = await CliAsync("kv", "get", key);
        Assert.Equal((2, "(not found)"), (code, text.Trim()));

        // Two identical puts are two writes: a key shared between commands would make the second a replay of the first.
        (code, text) = await CliAsync("kv", "put", key, "v1", "--node", "2");
        Assert.Equal(0, code);
        var first = IndexOf(text);
        (code, text) = await CliAsync("kv", "put", key, "v1", "--node", "2");
        Assert.Equal(0, code);
        Assert.True(IndexOf(text) > first, $"the second put has its own, later index: {text}");
        (code, text) = await CliAsync("kv", "get", key, "--node", "3");
        Assert.Equal((0, "v1"), (code, text.Trim()));

        (code, text) = await CliAsync("kv", "cas", key, "v2", "--expected", "other");
        Assert.Equal(3, code);
        Assert.Contains("\"current\":\"v1\"", text);
        (code, text) = await CliAsync("kv", "cas", key, "v2");
        Assert.Equal(3, code); // without --expected the key must be absent
        (code, text) = await CliAsync("kv", "cas", key, "v2", "--expected", "v1");
        Assert.Equal(0, code);
        IndexOf(text);
        (code, text) = await CliAsync("kv", "get", key);
        Assert.Equal((0, "v2"), (code, text.Trim()));

        (code, text) = await CliAsync("kv", "del", key);
        Assert.Equal(0, code);
        Assert.Contains("\"deleted\":true", text);
        (code, _) = await CliAsync("kv", "get", key);
        Assert.Equal(2, code);
    }

    [Fact]
    public async Task Kv_cli_pointed_at_an_unreachable_node_moves_on_and_retries_a_lost_answer_with_backoff_and_the_same_idempotency_key_printing_replayed()
    {
        await fixture.EnsureRunningAsync();
        var key = $"cli-retry-{Guid.NewGuid():N}";
        using (var c = Cluster.Client(1))
            Assert.Equal(200, (await c.SendAsync(HttpMethod.Put, $"/kv/{key}", new StringContent("v1"))).Code);

        // Through a proxy: node 3 refuses connections; node 1 runs the cas but its answer is lost; node 2 answers 503
        // "not-applied"; then node 3 again and node 1 again. Run twice, the cas would find v2 and fail (exit 3);
        // answered from the stored record, it succeeds.
        using var proxy = new FaultyHttpProxy(Cluster, [1, 2], ProxyAction.ForwardAndLoseAnswer, ProxyAction.Answer503);
        var (code, text) = await CliAsync(proxy.CliAsync, "kv", "cas", key, "v2", "--expected", "v1", "--node", "3");
        var requests = proxy.Requests;
        foreach (var r in requests)
            output.WriteLine($"node {r.NodeId} {r.Method} {r.Path} key {r.IdempotencyKey} at {r.ArrivedAt.TotalMilliseconds:0}-{r.AnsweredAt.TotalMilliseconds:0} ms: {r.Action}, node answered {r.NodeCode} {r.NodeBody} replayed={r.NodeReplayed}");

        Assert.Equal(0, code);
        Assert.True(requests.Count >= 3, $"at least three attempts reached the proxy, saw {requests.Count}");
        var lost = requests[0];
        Assert.True(lost is { NodeId: 1, NodeCode: 200, NodeReplayed: false }, "node 1 ran the cas (its answer then was lost)");
        Assert.Equal($"{lost.NodeBody} (replayed)", text.Trim());
        Assert.True(requests[^1].NodeReplayed, "the answer printed is the stored one");

        // Moved on from node 3 (refused, so not seen here) to node 1, node 2, (node 3,) node 1.
        Assert.Equal(new[] { 1, 2, 1 }, requests.Take(3).Select(r => r.NodeId));
        // One logical write: the same Idempotency-Key on every attempt.
        Assert.False(string.IsNullOrEmpty(lost.IdempotencyKey));
        Assert.All(requests, r => Assert.Equal(lost.IdempotencyKey, r.IdempotencyKey));
        // Exponential backoff with jitter, at least half of 100 ms * 2^attempt: 200 ms before the 3rd attempt, then
        // 400 + 800 ms before the 4th and 5th.
        var beforeThird = requests[1].ArrivedAt - requests[0].AnsweredAt;
        var beforeFifth = requests[2].ArrivedAt - requests[1].AnsweredAt;
        Assert.True(beforeThird >= TimeSpan.FromMilliseconds(190), $"waited {beforeThird.TotalMilliseconds:0} ms before the 3rd attempt");
        Assert.True(beforeFifth >= TimeSpan.FromMilliseconds(1180), $"waited {beforeFifth.TotalMilliseconds:0} ms before the 4th and 5th attempts");

        using (var c = Cluster.Client(3))
            Assert.Equal((200, "v2"), await c.SendAsync(HttpMethod.Get, $"/kv/{key}"));

        // The next command is another logical write, with a key of its own.
        (code, text) = await CliAsync(proxy.CliAsync, "kv", "put", key, "v3", "--node", "2");
        Assert.Equal(0, code);
        Assert.DoesNotContain("(replayed)", text);
        var next = proxy.Requests[^1];
        Assert.Equal((2, "PUT"), (next.NodeId, next.Method));
        Assert.False(string.IsNullOrEmpty(next.IdempotencyKey));
        Assert.NotEqual(lost.IdempotencyKey, next.IdempotencyKey);
    }
}
