using System.Net;
using System.Net.Http.Json;
using System.Text;
using DistSysActors.Node.Http;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>The key-value HTTP API's refusals (413, 400) and lease reads, on real nodes.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class KvHttpApiProcessTests(ClusterOfThree fixture, ITestOutputHelper output)
{
    private const int ValueBytesMax = 64 * 1024;
    private const int KeyBytesMax = 1024;

    private ProcessCluster Cluster => fixture.Cluster;

    private async Task<(int Code, string Body)> SendAsync(int node, HttpMethod method, string path, HttpContent? content = null)
    {
        using var client = Cluster.Client(node);
        var (code, body) = await client.SendAsync(method, path, content);
        output.WriteLine($"node {node} {method} {(path.Length > 80 ? path[..80] + "..." : path)}: {code} {(body.Length > 200 ? body[..200] + "..." : body)}");
        return (code, body);
    }

    /// <summary>
    /// Sends until the answer is not a 503: during an election (a loaded machine) a request may find no leader.
    /// Only for requests that are safe to repeat.
    /// </summary>
    private async Task<(int Code, string Body)> AnsweredAsync(int node, HttpMethod method, string path, Func<HttpContent>? content = null)
    {
        (int Code, string Body) answer = (0, "");
        await Cluster.AwaitAsync(async () => (answer = await SendAsync(node, method, path, content?.Invoke())).Code != 503,
            TimeSpan.FromSeconds(30), $"node {node} answers {method} {path} with something other than 503");
        return answer;
    }

    /// <summary>A body sent without Content-Length (chunked), so the node can only find its size by reading it.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task A_value_over_64_KiB_answers_413_whether_declared_streamed_or_in_a_cas_and_changes_nothing()
    {
        await fixture.EnsureRunningAsync();
        var path = $"/kv/big-{Guid.NewGuid():N}";
        var atLimit = new string('a', ValueBytesMax);
        Assert.Equal(200, (await AnsweredAsync(2, HttpMethod.Put, path, () => new StringContent(atLimit))).Code);

        Assert.Equal(413, (await SendAsync(2, HttpMethod.Put, path, new StringContent(new string('b', ValueBytesMax + 1)))).Code);
        Assert.Equal(413, (await SendAsync(2, HttpMethod.Put, path, new ChunkedContent(Encoding.UTF8.GetBytes(new string('c', ValueBytesMax + 1))))).Code);
        // The limit counts UTF-8 bytes, not characters: 32,768 two-byte characters plus one.
        Assert.Equal(413, (await SendAsync(2, HttpMethod.Put, path, new StringContent(new string('é', ValueBytesMax / 2) + "d"))).Code);
        var cas = JsonContent.Create(new { expected = atLimit, value = new string('e', ValueBytesMax + 1) });
        var (code, body) = await SendAsync(3, HttpMethod.Post, $"{path}/cas", cas);
        Assert.Equal(413, code);
        Assert.Contains("exceeds", body);

        Assert.Equal((200, atLimit), await AnsweredAsync(1, HttpMethod.Get, path));
        // Streamed without a length, a value at the limit is read whole (its buffer grows as the bytes come).
        var streamedPath = $"{path}-streamed";
        var streamed = string.Concat(Enumerable.Range(0, ValueBytesMax / 16).Select(i => $"{i:D15}|"));
        Assert.Equal(200, (await AnsweredAsync(2, HttpMethod.Put, streamedPath, () => new ChunkedContent(Encoding.UTF8.GetBytes(streamed)))).Code);
        Assert.Equal((200, streamed), await AnsweredAsync(1, HttpMethod.Get, streamedPath));
        // The CLI reports it and does not retry: exit 1 with the node's answer.
        var (cliCode, cliOut) = await Cluster.CliAsync("kv", "put", path["/kv/".Length..], new string('f', ValueBytesMax + 1));
        Assert.Equal(1, cliCode);
        Assert.Contains("HTTP 413", cliOut);
        Assert.Equal((200, atLimit), await AnsweredAsync(1, HttpMethod.Get, path));
    }

    [Fact]
    public async Task Bad_input_answers_400_and_changes_nothing()
    {
        await fixture.EnsureRunningAsync();
        var key = $"bad-{Guid.NewGuid():N}";
        var path = $"/kv/{key}";
        Assert.Equal(200, (await AnsweredAsync(1, HttpMethod.Put, path, () => new StringContent("v1"))).Code);

        var (code, body) = await SendAsync(2, HttpMethod.Get, $"{path}?consistency=eventual");
        Assert.Equal(400, code);
        Assert.Contains("consistency must be linearizable, lease, stale, read-your-writes, monotonic or bounded", body);

        // Keys: up to 1024 bytes.
        var longKey = new string('k', KeyBytesMax + 1);
        Assert.Equal(400, (await SendAsync(2, HttpMethod.Put, $"/kv/{longKey}", new StringContent("x"))).Code);
        Assert.Equal(400, (await SendAsync(2, HttpMethod.Get, $"/kv/{longKey}")).Code);
        Assert.Equal(400, (await SendAsync(2, HttpMethod.Delete, $"/kv/{longKey}")).Code);
        Assert.Equal(200, (await AnsweredAsync(2, HttpMethod.Put, $"/kv/{longKey[..KeyBytesMax]}", () => new StringContent("x"))).Code);

        // A value must be UTF-8 text.
        Assert.Equal(400, (await SendAsync(2, HttpMethod.Put, path, new ByteArrayContent([0x76, 0xff, 0xfe]))).Code);

        // Compare-and-set takes exactly {"expected": string or null, "value": string}.
        foreach (var cas in new[]
                 {
                     "{not json", "[\"v1\", \"v2\"]", """{"expected": "v1", "value": "v2", "extra": 1}""", """{"expected": "v1"}""",
                     """{"expected": "v1", "value": 2}""", """{"expected": 1, "value": "v2"}""",
                 })
        {
            (code, body) = await SendAsync(3, HttpMethod.Post, $"{path}/cas", new StringContent(cas, Encoding.UTF8, "application/json"));
            Assert.True(code == 400 && body.Contains("\"error\""), $"cas body {cas} answered {code} {body}");
        }

        Assert.Equal((200, "v1"), await AnsweredAsync(1, HttpMethod.Get, path));
        // The CLI refuses a bad consistency level itself.
        var (cliCode, cliOut) = await Cluster.CliAsync("kv", "get", key, "--consistency", "eventual");
        Assert.Equal(1, cliCode);
        Assert.Contains("eventual", cliOut);
    }

    [Fact]
    public async Task Lease_reads_return_the_last_written_value_at_the_leader_and_through_a_follower_that_has_not_applied_it_yet()
    {
        await fixture.EnsureRunningAsync();
        var leader = await Cluster.LeaderAsync();
        var followers = Enumerable.Range(1, 3).Where(i => i != leader).ToArray();
        var path = $"/kv/lease-{Guid.NewGuid():N}";
        // The leader's messages take 100 ms to arrive (its alone), so a follower learns of a commit about 100 ms after the
        // writer does: only a read confirmed by the leader, not the follower's own applied state, is sure to see the write.
        using (var c = Cluster.Client(leader))
        using (var response = await c.PostFaultsAsync(new FaultSpecDto([], 0, [100, 100], 0, false, null)))
            Assert.True(response.IsSuccessStatusCode);
        try
        {
            for (var i = 1; i <= 5; i++)
            {
                var value = $"v{i}";
                Assert.Equal(200, (await AnsweredAsync(leader, HttpMethod.Put, path, () => new StringContent(value))).Code);
                foreach (var follower in followers)
                    Assert.Equal((200, value), await AnsweredAsync(follower, HttpMethod.Get, $"{path}?consistency=lease"));
                Assert.Equal((200, value), await AnsweredAsync(leader, HttpMethod.Get, $"{path}?consistency=lease"));
            }
        }
        finally
        {
            using var c = Cluster.Client(leader);
            using var _ = await c.HealAsync();
        }
    }
}
