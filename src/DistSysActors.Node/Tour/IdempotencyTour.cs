using System.Text.Json;

namespace DistSysActors.Node.Tour;

/// <summary>
/// `distsys tour idempotency`: a client whose answer was lost retries its write. Without an Idempotency-Key the retry
/// would run again and overwrite a later write (a lost update); with one it is answered from the record the first
/// attempt stored in the replicated state, on any node, even after the leader is killed.
/// </summary>
internal static class IdempotencyTour
{
    public static async Task RunAsync(TourRun t)
    {
        var key = $"tour-i-{DateTime.UtcNow:HHmmss}";
        var idem = $"pay-{Guid.NewGuid():N}"[..16];
        var (leader, _) = await t.StepAsync("one agreed Raft leader",
            () => t.UntilAsync<(int Leader, long Term)>("one agreed leader", s => RaftTour.Agreed(s) is { } a ? (a, "") : (null, TourRun.Roles(s))),
            a => $"node {a.Leader} leads in term {a.Term}");
        var follower = t.Ids.First(i => i != leader);

        var first = await t.StepAsync($"a client writes {key}=a with Idempotency-Key {idem} through node {follower}; say its answer is lost on the way back",
            async () =>
            {
                var (code, body, _) = await Put(t, follower, key, "a", idem);
                return code == 200 ? Index(body) : throw new TourFailure($"PUT answered {code}: {body}");
            }, i => $"committed at index {i}");

        await t.StepAsync($"meanwhile another client writes {key}=b (no key)", async () =>
        {
            var (code, body, _) = await Put(t, leader, key, "b", null);
            return code == 200 ? $"committed at index {Index(body)}" : throw new TourFailure($"PUT answered {code}: {body}");
        });

        await t.StepAsync($"the first client retries, to node {leader} this time: the same key and request are answered from the stored record, not run again",
            () => ExpectReplayAsync(t, leader, key, idem, first));

        await t.StepAsync($"so {key} still reads b: a blind retry would have put a back over b (a lost update)", () => ReadAsync(t, leader, key, "b"));

        await t.StepAsync($"the same Idempotency-Key with another value is refused (422) and changes nothing", async () =>
        {
            var (code, body, _) = await Put(t, follower, key, "c", idem);
            if (code != 422) throw new TourFailure($"PUT with a reused key and another body answered {code}: {body} (expected 422)");
            await ReadAsync(t, leader, key, "b");
            return $"422 {body}; still b";
        });

        await t.StepAsync($"kill -9 the leader, node {leader}: the record lives in the replicated state, not in its memory", () => t.LauncherAsync(leader, "kill"));

        var newLeader = await t.StepAsync("a new leader is elected",
            () => t.UntilAsync<int>("a new leader", s => s.Where(kv => kv.Key != leader && kv.Value?.Raft?.Role == "Leader").Select(kv => kv.Key).FirstOrDefault() is var n and > 0
                ? (n, "") : (null, TourRun.Roles(s))), n => $"node {n}");

        await t.StepAsync($"the retry through new leader {newLeader} is still answered from the record: index {first}, replayed",
            () => ExpectReplayAsync(t, newLeader, key, idem, first));

        await t.StepAsync($"restart node {leader}", () => t.LauncherAsync(leader, "restart"));
        await t.ClaimAsync($"node {leader} is back as a follower", s => (s[leader]?.Raft?.Role == "Follower" && s.Values.All(x => x is not null), TourRun.Roles(s)),
            "a follower again", TimeSpan.FromSeconds(60));
    }

    private static Task<(int Code, string Body, Dictionary<string, string> Headers)> Put(TourRun t, int node, string key, string value, string? idem) =>
        RetryNotAppliedAsync(t, () => t.SendWithHeadersAsync(node, HttpMethod.Put, $"/kv/{key}", value, idem is null ? [] : [("Idempotency-Key", idem)]));

    private static async Task<(int Code, string Body, Dictionary<string, string> Headers)> RetryNotAppliedAsync(TourRun t, Func<Task<(int, string, Dictionary<string, string>)>> send)
    {
        var deadline = DateTime.UtcNow + t.ClaimTimeout;
        while (true)
        {
            var (code, body, headers) = await send();
            if (!(code == 0 || (code == 503 && body.Contains("\"not-applied\"", StringComparison.Ordinal))) || DateTime.UtcNow > deadline) return (code, body, headers);
            await Task.Delay(200);
        }
    }

    private static async Task<string> ExpectReplayAsync(TourRun t, int node, string key, string idem, long first)
    {
        var (code, body, headers) = await Put(t, node, key, "a", idem);
        var replayed = headers.TryGetValue("Idempotent-Replayed", out var r) && r == "true";
        if (code != 200 || !replayed || Index(body) != first)
            throw new TourFailure($"the retry answered {code} {body} (Idempotent-Replayed: {r ?? "absent"}); expected 200, index {first}, replayed");
        return $"200 {body}, Idempotent-Replayed: true";
    }

    private static async Task<string> ReadAsync(TourRun t, int node, string key, string expected)
    {
        var (code, body) = await t.SucceedAsync(node, HttpMethod.Get, $"/kv/{key}?consistency=linearizable");
        return code == 200 && body == expected ? $"reads {body}" : throw new TourFailure($"GET answered {code}: {body} (expected {expected})");
    }

    private static long Index(string body) => JsonDocument.Parse(body).RootElement.GetProperty("index").GetInt64();
}
