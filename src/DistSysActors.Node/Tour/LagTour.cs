namespace DistSysActors.Node.Tour;

/// <summary>
/// `distsys tour lag` (README "Replication lag and session reads"): one follower's links are slowed, so it applies
/// what the leader committed late. A stale read from it right after a write misses the write, and reads alternating
/// between a fast and the slow replica can go back in time; the session guarantees do not: read-your-writes waits for
/// the write's index, monotonic reads never answer older than the last read. Then heal: it catches up.
/// </summary>
internal static class LagTour
{
    private const int Rounds = 10;

    public static async Task RunAsync(TourRun t)
    {
        var key = $"tour-l-{DateTime.UtcNow:HHmmss}";
        var (leader, _) = await t.StepAsync("one agreed Raft leader",
            () => t.UntilAsync<(int Leader, long Term)>("one agreed leader", s => RaftTour.Agreed(s) is { } a ? (a, "") : (null, TourRun.Roles(s))),
            a => $"node {a.Leader} leads in term {a.Term}");
        var slow = t.Ids.Last(i => i != leader);
        var fast = t.Ids.First(i => i != leader && i != slow);

        await t.StepAsync($"slow node {slow}'s links by 300 ms: the leader commits with node {fast} and node {slow} learns each entry late",
            () => t.NodeFaultsAsync(slow, "{\"delayMs\": [300, 300]}"));
        try
        {
            await ReadsAsync(t, key, leader, fast, slow);
        }
        finally
        {
            await t.HealQuietlyAsync(slow); // a failed step leaves no slowed node behind for whatever runs next
        }
    }

    private static async Task ReadsAsync(TourRun t, string key, int leader, int fast, int slow)
    {
        await t.StepAsync($"{Rounds} times: write {key}=i through leader {leader}, then at once read it from node {slow} with consistency=stale", async () =>
        {
            var missed = 0;
            for (var i = 1; i <= Rounds; i++)
            {
                var (code, body) = await t.SucceedAsync(leader, HttpMethod.Put, $"/kv/{key}", $"{i}");
                if (code != 200) throw new TourFailure($"PUT answered {code}: {body}");
                var (rc, rb) = await t.SendAsync(slow, HttpMethod.Get, $"/kv/{key}?consistency=stale");
                if (!(rc == 200 && rb == $"{i}")) missed++;
            }
            return missed > 0 ? $"the client missed its own write {missed}/{Rounds} times" : throw new TourFailure($"node {slow} was never behind in {Rounds} rounds: the delay did not show");
        });

        await t.StepAsync($"the same with consistency=read-your-writes&min-index=(the write's index): node {slow} waits until it has applied the write", async () =>
        {
            var waitedMax = 0L;
            for (var i = 1; i <= Rounds; i++)
            {
                var (code, body) = await t.SucceedAsync(leader, HttpMethod.Put, $"/kv/{key}", $"ryw-{i}");
                if (code != 200) throw new TourFailure($"PUT answered {code}: {body}");
                var index = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("index").GetInt64();
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var (rc, rb) = await t.SendAsync(slow, HttpMethod.Get, $"/kv/{key}?consistency=read-your-writes&min-index={index}");
                waitedMax = Math.Max(waitedMax, watch.ElapsedMilliseconds);
                if (rc != 200 || rb != $"ryw-{i}") throw new TourFailure($"read-your-writes at index {index} answered {rc} {rb} (expected ryw-{i})");
            }
            return $"{Rounds}/{Rounds} answered with the write (waiting up to {waitedMax} ms)";
        });

        var counter = $"{key}-n";
        await t.StepAsync($"reads alternating between node {fast} and slow node {slow} while the value counts up: stale reads may go back in time, monotonic ones never", async () =>
        {
            var staleBack = await AlternateAsync(t, leader, fast, slow, $"{counter}-stale", monotonic: false);
            var monotonicBack = await AlternateAsync(t, leader, fast, slow, $"{counter}-monotonic", monotonic: true);
            if (monotonicBack > 0) throw new TourFailure($"monotonic reads went back in time {monotonicBack} times");
            return $"stale: back in time {staleBack} of {2 * Rounds} reads; monotonic (min-index = the last X-Applied-Index): 0";
        });

        await t.StepAsync($"heal node {slow}", () => t.NodeFaultsAsync(slow, null));
        await t.ClaimAsync($"node {slow} catches up: it has applied everything the leader committed", s =>
            (s[leader]?.Raft is { } l && s[slow]?.Raft is { } f && f.LastApplied >= l.CommitIndex && s[leader]?.Replication?.Replicas.FirstOrDefault(r => r.NodeId == slow)?.LagEntries == 0,
                string.Join(", ", s.Select(kv => $"node {kv.Key} applied {kv.Value?.Raft?.LastApplied.ToString() ?? "?"} of commit {kv.Value?.Raft?.CommitIndex.ToString() ?? "?"}"))),
            "lag 0", TimeSpan.FromSeconds(60));
    }

    /// <summary>Writes a fresh <paramref name="key"/>=1,2,... and reads after each from the fast then the slow replica; counts reads older than the one before.</summary>
    private static async Task<int> AlternateAsync(TourRun t, int leader, int fast, int slow, string key, bool monotonic)
    {
        var back = 0;
        long last = 0, seen = 0;
        for (var i = 1; i <= Rounds; i++)
        {
            var (code, body) = await t.SucceedAsync(leader, HttpMethod.Put, $"/kv/{key}", $"{i}");
            if (code != 200) throw new TourFailure($"PUT answered {code}: {body}");
            foreach (var node in new[] { fast, slow })
            {
                var query = monotonic ? $"consistency=monotonic&min-index={seen}" : "consistency=stale";
                var (rc, rb, headers) = await t.SendWithHeadersAsync(node, HttpMethod.Get, $"/kv/{key}?{query}", null);
                // 404: this replica, at least as new as min-index, has no value yet (the key is fresh): value 0.
                if (monotonic && rc is not (200 or 404)) throw new TourFailure($"a monotonic read on node {node} answered {rc} {rb}");
                var value = rc == 200 && long.TryParse(rb, out var v) ? v : 0;
                if (value < last) back++;
                last = Math.Max(last, value);
                if (headers.TryGetValue("X-Applied-Index", out var applied) && long.TryParse(applied, out var a)) seen = Math.Max(seen, a);
            }
        }
        return back;
    }
}
