using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// Idempotency-Key expiry end to end, on a cluster of its own started with a short TTL: keys are remembered for
/// `distsys.idempotency.ttl-ms` of leader clock, which the leader writes into the Raft log every
/// `leader-clock-interval-ms`.
/// </summary>
public sealed class IdempotencyExpiryProcessTests(ITestOutputHelper output)
{
    private const int TtlMs = 4_000;
    private const int LeaderClockIntervalMs = 200;

    private static long IndexOf(string body) => JsonDocument.Parse(body).RootElement.GetProperty("index").GetInt64();

    [Fact]
    public async Task A_key_is_replayed_within_its_ttl_of_leader_clock_and_runs_as_a_new_request_after_it()
    {
        using var cluster = new ProcessCluster(3);
        for (var i = 1; i <= 3; i++)
            cluster.Start(i, "--set", $"distsys.idempotency.ttl-ms={TtlMs}", "--set", $"distsys.idempotency.leader-clock-interval-ms={LeaderClockIntervalMs}");
        await cluster.AwaitAsync(cluster.AllReadyAsync, TimeSpan.FromSeconds(90), "all three nodes are ready");
        var leader = await cluster.LeaderAsync();
        var follower = Enumerable.Range(1, 3).First(i => i != leader);
        var path = $"/kv/ttl-{Guid.NewGuid():N}";
        const string idem = "ttl-key-1";
        var watch = new Stopwatch();

        async Task<(int Code, string Body, bool Replayed)> PutAsync(int node, string value)
        {
            using var client = cluster.Client(node);
            var answer = await client.SendAsync(HttpMethod.Put, path, new StringContent(value), idem);
            output.WriteLine($"{watch.ElapsedMilliseconds,6} ms: node {node} PUT {value}: {answer.Code} {answer.Body}{(answer.Replayed ? " (replayed)" : "")}");
            return answer;
        }

        // Resent while 503 (an election on a loaded machine): with the key, a resend is safe.
        async Task<(int Code, string Body, bool Replayed)> AnsweredAsync(int node, string value)
        {
            (int Code, string Body, bool Replayed) answer = (0, "", false);
            await cluster.AwaitAsync(async () => (answer = await PutAsync(node, value)).Code != 503, TimeSpan.FromSeconds(30), $"node {node} answers the PUT");
            return answer;
        }

        watch.Start();
        var first = await AnsweredAsync(follower, "v1");
        Assert.Equal(200, first.Code);
        // Within the TTL: the same request anywhere gets the stored answer; another request with the key is refused.
        var retry = await AnsweredAsync(leader, "v1");
        Assert.Equal((200, true, first.Body), (retry.Code, retry.Replayed, retry.Body));
        Assert.Equal(422, (await AnsweredAsync(follower, "v2")).Code);

        // Once the leader clock in the log has passed the record's time by the TTL, the key is forgotten and a request
        // with it runs as new. Until then every attempt is refused as a different request.
        (int Code, string Body, bool Replayed) accepted = (0, "", false);
        var lastRefusedMs = 0L;
        var unknownOutcome = false;
        await cluster.AwaitAsync(async () =>
        {
            var answer = await PutAsync(follower, "v2");
            if (answer.Code == 422) { lastRefusedMs = watch.ElapsedMilliseconds; return false; }
            Assert.True(answer.Code is 200 or 503, $"a request with a remembered or forgotten key answers 422 or 200, got {answer.Code} {answer.Body}");
            unknownOutcome |= answer.Code == 503;
            accepted = answer;
            return answer.Code == 200;
        }, TimeSpan.FromMilliseconds(TtlMs) + TimeSpan.FromSeconds(20), "the key expires and the other request runs");
        var acceptedMs = watch.ElapsedMilliseconds;
        output.WriteLine($"key refused until {lastRefusedMs} ms, accepted as new at {acceptedMs} ms (TTL {TtlMs} ms)");

        // Ran as a new write, at a later index (a 503 attempt before it may have run it already, and this one replayed it).
        Assert.True(IndexOf(accepted.Body) > IndexOf(first.Body), $"the request ran anew after expiry, at a later index than {first.Body}: {accepted.Body}");
        Assert.True(unknownOutcome || !accepted.Replayed);
        // The record was made at the last leader clock entry before the write, at most an interval (plus scheduling) earlier.
        Assert.True(acceptedMs >= TtlMs - LeaderClockIntervalMs - 800, $"the key lived {acceptedMs} ms, not its TTL of {TtlMs} ms of leader clock");
        // The node that answered has applied it (its own state, no leader round needed).
        using (var c = cluster.Client(follower))
            Assert.Equal((200, "v2"), await c.SendAsync(HttpMethod.Get, $"{path}?consistency=stale"));

        // The key now belongs to the new request: replayed for it, refused for the old one.
        var again = await AnsweredAsync(leader, "v2");
        Assert.Equal((200, true, accepted.Body), (again.Code, again.Replayed, again.Body));
        Assert.Equal(422, (await AnsweredAsync(follower, "v1")).Code);
    }
}
