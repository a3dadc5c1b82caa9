using System.Diagnostics;
using System.Text.Json;

namespace DistSysActors.Node.Tour;

/// <summary>
/// `distsys tour gossip`: SWIM membership and the AP store kept by anti-entropy. A write to one node's AP replica
/// spreads to every node within a few exchange rounds; a killed node turns suspect and then dead in the others' SWIM
/// views while the AP store keeps taking writes; restarted, it is alive again and anti-entropy refills its replica.
/// </summary>
internal static class GossipTour
{
    public static async Task RunAsync(TourRun t)
    {
        var key = $"tour-g-{DateTime.UtcNow:HHmmss}";
        await t.ClaimRawAsync("every node's SWIM view has every node alive", s =>
            (s.Values.All(x => States(x).Count(m => m.State == "alive") == t.Nodes), Views(s)), "all alive");

        await t.StepAsync($"write {key}=red to node 1's AP replica: answered at once, with no quorum round", async () =>
        {
            var (code, body, _) = await t.SendWithHeadersAsync(1, HttpMethod.Put, $"/ap/{key}", "red");
            return code == 200 ? $"200 {body}" : throw new TourFailure($"PUT /ap answered {code}: {body}");
        });

        var spread = Stopwatch.StartNew();
        await t.StepAsync("anti-entropy spreads it: every node's replica answers red", async () =>
        {
            await ReadEverywhereAsync(t, t.Ids, key, "red");
            return $"on all {t.Nodes} nodes {spread.ElapsedMilliseconds} ms after the write";
        });

        var victim = t.Nodes;
        var others = t.Ids.Where(i => i != victim).ToList();
        await t.StepAsync($"kill -9 node {victim}", () => t.LauncherAsync(victim, "kill"));

        var killed = Stopwatch.StartNew();
        await t.ClaimRawAsync($"its pings go unanswered, and indirect probes through the others too: node {victim} becomes suspect, then dead, in the SWIM view of {string.Join(",", others)}",
            s => (others.All(o => States(s[o]).Any(m => m.Node == victim && m.State == "dead")), Views(s)),
            "dead in every surviving view");

        await t.StepAsync($"the AP store stays available: write {key}=blue to node 1 while node {victim} is down", async () =>
        {
            var (code, body, _) = await t.SendWithHeadersAsync(1, HttpMethod.Put, $"/ap/{key}", "blue");
            if (code != 200) throw new TourFailure($"PUT /ap answered {code}: {body}");
            await ReadEverywhereAsync(t, others, key, "blue");
            return $"200; nodes {string.Join(",", others)} read blue ({killed.Elapsed.TotalSeconds:0.0} s after the kill)";
        });

        await t.StepAsync($"restart node {victim}: it starts with an empty AP replica (kept in memory)", () => t.LauncherAsync(victim, "restart"));

        await t.StepAsync($"node {victim} is alive again in every node's SWIM view", async () =>
        {
            await t.UntilRawAsync<bool>("alive again", s => s.Values.All(x => States(x).Count(m => m.State == "alive") == t.Nodes) ? (true, "") : (null, Views(s)),
                TimeSpan.FromSeconds(60));
            return $"all alive; incarnations of node {victim} as seen by each node: {Incarnations(await t.RawStatusesAsync(), victim)}";
        });

        await t.StepAsync($"anti-entropy refills node {victim}: it reads blue, the newer write (last writer wins by HLC)", async () =>
        {
            await ReadEverywhereAsync(t, [victim], key, "blue");
            return "blue";
        });
    }

    private static async Task ReadEverywhereAsync(TourRun t, IEnumerable<int> nodes, string key, string value)
    {
        var seen = "";
        var deadline = DateTime.UtcNow + t.ClaimTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var reads = new List<string>();
            foreach (var id in nodes)
            {
                var (code, body) = await t.SendAsync(id, HttpMethod.Get, $"/ap/{key}");
                reads.Add($"node {id}: {code} {(code == 200 ? body : "")}".TrimEnd());
            }
            if (reads.All(r => r.EndsWith($": 200 {value}", StringComparison.Ordinal))) return;
            seen = string.Join("; ", reads);
            await Task.Delay(100);
        }
        throw new TourFailure($"the AP replicas did not all read {value} within {t.ClaimTimeout.TotalSeconds:0} s; last seen: {seen}");
    }

    private static List<(int Node, string State)> States(JsonElement? status)
    {
        if (status is not { } s || !s.TryGetProperty("gossip", out var g) || g.ValueKind != JsonValueKind.Object
            || !g.TryGetProperty("members", out var members) || members.ValueKind != JsonValueKind.Array) return [];
        return [.. members.EnumerateArray().Select(m => (m.GetProperty("nodeId").GetInt32(), m.GetProperty("state").GetString() ?? "?"))];
    }

    private static string Incarnations(Dictionary<int, JsonElement?> s, int member) =>
        string.Join(", ", s.Where(kv => kv.Value is { } v && v.TryGetProperty("gossip", out var g) && g.ValueKind == JsonValueKind.Object).Select(kv =>
            $"{kv.Key}: {(kv.Value!.Value.GetProperty("gossip").TryGetProperty("members", out var ms) && ms.ValueKind == JsonValueKind.Array
                ? ms.EnumerateArray().Where(m => m.GetProperty("nodeId").GetInt32() == member).Select(m => m.GetProperty("incarnation").ToString()).FirstOrDefault() ?? "?" : "?")}"));

    private static string Views(Dictionary<int, JsonElement?> s) =>
        string.Join("; ", s.Select(kv => kv.Value is null ? $"node {kv.Key} down" : $"node {kv.Key} sees {string.Join(",", States(kv.Value).Select(m => $"{m.Node} {m.State}"))}"));
}
