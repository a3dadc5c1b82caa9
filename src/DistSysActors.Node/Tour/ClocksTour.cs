using System.Text.Json;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Tour;

/// <summary>
/// `distsys tour clocks` (README "Lamport vs HLC vs wall clock"): three nodes whose clocks are skewed by -500, 0 and
/// +500 ms. Their clock service estimates each offset; node 3 (ahead) is made Raft leader, so its messages reach node 1
/// (behind) "before" they were sent by wall clock. One traced write through it is then read back from the merged logs in HLC,
/// Lamport and wall order, and the tour counts, with the same check `distsys logs` uses, the receives each order shows
/// before their send: none by HLC or Lamport, some by wall clock.
/// </summary>
internal static class ClocksTour
{
    public const int SkewStepMs = 500;

    /// <summary>The skew of node <paramref name="id"/>: -500, 0, +500 ms for nodes 1, 2, 3.</summary>
    public static long SkewOf(int id) => (id - 2) * SkewStepMs;

    /// <summary>What each node the tour starts itself gets: its skew, and an HLC that accepts stamps up to 2 s ahead.</summary>
    public static IReadOnlyList<string> NodeArgs(int id) =>
        ["--set", $"distsys.clock.skew-ms={SkewOf(id)}", "--set", "distsys.clock.hlc-max-offset-ms=2000"];

    public static async Task RunAsync(TourRun t)
    {
        if (t.Nodes != 3) throw new TourFailure("the clocks tour needs the 3 nodes it starts itself");
        await t.ClaimAsync($"each node runs with an injected clock skew: node 1 {SkewOf(1)} ms, node 2 {SkewOf(2)} ms, node 3 +{SkewOf(3)} ms", s =>
            (t.Ids.All(i => s[i]?.Clock?.SkewMs == SkewOf(i)),
                string.Join("; ", s.Select(kv => $"node {kv.Key}: skew {kv.Value?.Clock?.SkewMs.ToString() ?? "?"} ms"))
                + " (the clocks tour needs nodes it starts itself with these skews: run it on ports where no cluster runs, --http-base-port, --base-port)"),
            "skewed as configured");

        await t.StepAsync("each node's clock service estimates its offset to the reference node from round trips (within 100 ms of the injected difference)", async () =>
        {
            await t.UntilAsync<bool>("offsets estimated", s =>
                t.Ids.All(i => s[i]?.Clock is { Synced: true, OffsetMs: { } o } c && Math.Abs(o - (SkewOf(i) - SkewOf(c.ReferenceNodeId))) < 100) ? (true, "") : (null, Offsets(s)));
            return Offsets(await t.StatusesAsync());
        });

        await t.StepAsync($"make node 3 (+{SkewOf(3)} ms) the Raft leader, so that its messages reach node 1 ({SkewOf(1)} ms) a second \"before\" they leave by wall clock", async () =>
        {
            var (code, body) = await t.SucceedAsync(1, HttpMethod.Post, "/admin/raft/transfer", "{\"to\": 3}");
            if (code is < 200 or >= 300 && !body.Contains("already", StringComparison.OrdinalIgnoreCase)) throw new TourFailure($"the transfer answered {code}: {body}");
            await t.UntilAsync<bool>("node 3 leads", s => s[3]?.Raft?.Role == "Leader" && s.Values.All(x => x?.Raft?.LeaderId == 3) ? (true, "") : (null, TourRun.Roles(s)));
            return "node 3 leads";
        });

        var key = $"tour-c-{DateTime.UtcNow:HHmmss}";
        var trace = await t.StepAsync($"write {key} through leader 3 under a fresh trace id: its appends carry the trace to nodes 1 and 2, whose receives are logged", async () =>
        {
            await t.UntilAsync<bool>("every node applied the leader's commit", s =>
                s[3]?.Raft is { } l && s.Values.All(x => x?.Raft?.LastApplied >= l.CommitIndex) ? (true, "") : (null, TourRun.Roles(s)));
            // A write whose appends did not carry the trace (seen right after a leadership change): write again under a new one.
            for (var attempt = 1; ; attempt++)
            {
                var id = Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant();
                var (code, body, _) = await t.SendWithHeadersAsync(3, HttpMethod.Put, $"/kv/{key}", $"v{attempt}", ("traceparent", $"00-{id}-00f067aa0ba902b7-01"));
                if (code != 200) throw new TourFailure($"PUT answered {code}: {body}");
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
                while (DateTime.UtcNow < deadline)
                {
                    var records = await TraceAsync(t, id, "hlc");
                    if (records.Select(r => r.Node.Value).Distinct().Count() == 3 && records.Any(r => r.Attribute(LogAttributes.Event) == LogAttributes.ReceiveEvent))
                        return (id, attempt);
                    await Task.Delay(500);
                }
                if (attempt == 3) throw new TourFailure($"three traced writes, and none has its messages in the logs of all three nodes (last trace {id})");
            }
        }, r => $"trace {r.id}{(r.attempt > 1 ? $" (write {r.attempt}: the messages of the earlier ones did not carry the trace)" : "")}");

        foreach (var order in new[] { "hlc", "lamport", "wall" })
        {
            var claim = order == "wall"
                ? "by wall clock, some of its messages from node 3 are received before they were sent (distsys logs --order wall marks them)"
                : $"merged by {(order == "hlc" ? "HLC" : "Lamport clock")}, every receive of the trace comes after its send";
            await t.StepAsync(claim, async () =>
            {
                // The records ship to the stores asynchronously: ask until the trace's sends and receives are there.
                var deadline = DateTime.UtcNow + t.ClaimTimeout;
                while (true)
                {
                    var records = await TraceAsync(t, trace.id, order);
                    var pairs = records.Count(r => r.Attribute(LogAttributes.Event) == LogAttributes.ReceiveEvent);
                    var violations = LogOrder.ReceivesBeforeSends(records).Count;
                    var holds = order == "wall" ? violations > 0 : violations == 0;
                    if (holds && pairs > 0) return $"{records.Count} records, {pairs} receives, {violations} shown before their send";
                    if (DateTime.UtcNow > deadline)
                        throw new TourFailure($"{records.Count} records, {pairs} receives, {violations} shown before their send in {order} order");
                    await Task.Delay(500);
                }
            });
        }
    }

    private static async Task<List<LogRecord>> TraceAsync(TourRun t, string trace, string order)
    {
        var (code, body) = await t.SendAsync(2, HttpMethod.Get, $"/logs?trace={trace}&order={order}&limit=1000");
        if (code != 200) throw new TourFailure($"GET /logs answered {code}: {body}");
        return JsonSerializer.Deserialize<List<LogRecordDto>>(body, new JsonSerializerOptions(JsonSerializerDefaults.Web))!.Select(r => r.ToRecord()).ToList();
    }

    private static string Offsets(Dictionary<int, StatusDto?> s) =>
        string.Join("; ", s.Select(kv => kv.Value?.Clock is { } c
            ? $"node {kv.Key}: offset {(c.OffsetMs is { } o ? o.ToString("0", System.Globalization.CultureInfo.InvariantCulture) : "?")} ms to node {c.ReferenceNodeId}{(c.Synced ? "" : ", not synced")}"
            : $"node {kv.Key}: no clock"));
}
