using System.Text.Json;

namespace DistSysActors.Node.Tour;

/// <summary>
/// `distsys tour paxos`: Basic Paxos write-once registers. Two proposers on two nodes propose different values for one
/// register at once (a duel: their Prepares interleave on the acceptors); exactly one value is chosen and every node
/// learns it; a later proposer gets the chosen value back; a proposer cut off from the majority decides nothing.
/// </summary>
internal static class PaxosTour
{
    public static async Task RunAsync(TourRun t)
    {
        var register = $"tour-duel-{DateTime.UtcNow:HHmmss}";
        var (a, b) = (1, t.Nodes);
        var chosen = await t.StepAsync($"duel: node {a} proposes from-node-{a} and node {b} proposes from-node-{b} for register {register}, at the same moment",
            async () =>
            {
                var answers = await Task.WhenAll(new[] { a, b }.Select(n => t.SendAsync(n, HttpMethod.Put, $"/paxos/{register}", $"from-node-{n}")));
                if (answers.Any(x => x.Code != 200)) throw new TourFailure($"a proposer failed: {string.Join("; ", answers.Select(x => $"{x.Code} {x.Body}"))}");
                var values = answers.Select(x => Chosen(x.Body)).Distinct().ToList();
                if (values.Count != 1) throw new TourFailure($"the two proposers were told different values: {string.Join(", ", values)}");
                var rejected = answers.Sum(x => Phases(x.Body).Count(p => p.Contains("rejected", StringComparison.Ordinal) || p.Contains("backs off", StringComparison.Ordinal)));
                return (values[0], rejected);
            }, r => $"both were told '{r.Item1}' ({(r.Item2 > 0 ? $"{r.Item2} rejections and back-offs on the way: a duel" : "no round was rejected this time: one proposer finished first")})");

        await t.StepAsync($"every node's learner knows '{chosen.Item1}'", async () =>
        {
            foreach (var n in t.Ids)
            {
                var (code, body) = await t.SucceedAsync(n, HttpMethod.Get, $"/paxos/{register}");
                if (code != 200 || Chosen(body) != chosen.Item1) throw new TourFailure($"node {n} answered {code} {body}");
            }
            return $"all {t.Nodes} answer '{chosen.Item1}'";
        });

        var late = t.Nodes > 2 ? t.Ids.First(i => i != a && i != b) : a;
        await t.StepAsync($"a later proposer on node {late} proposes 'mine': a chosen value never changes, so it is told '{chosen.Item1}'", async () =>
        {
            var (code, body) = await t.SucceedAsync(late, HttpMethod.Put, $"/paxos/{register}", "mine");
            return code == 200 && Chosen(body) == chosen.Item1 ? $"told '{chosen.Item1}'" : throw new TourFailure($"answered {code} {body}");
        });

        var alone = $"tour-alone-{DateTime.UtcNow:HHmmss}";
        var rest = t.Ids.Where(i => i != a).ToList();
        await t.StepAsync($"partition {a}/{string.Join(",", rest)}: node {a} alone", () => t.FaultsAsync(new { partition = $"{a}/{string.Join(",", rest)}" }));
        await t.StepAsync($"node {a} proposes x for register {alone}: no majority promises, so after its rounds nothing is chosen (503)", async () =>
        {
            var (code, body) = await t.SendAsync(a, HttpMethod.Put, $"/paxos/{alone}", "x");
            return code == 503 ? $"503 {Error(body)}" : throw new TourFailure($"answered {code} {body} (expected 503)");
        });
        await t.StepAsync("heal", () => t.FaultsAsync(null));
        await t.StepAsync($"the majority never accepted x: a proposal of y for {alone} through node {rest[0]} is chosen", async () =>
        {
            var (code, body) = await t.SucceedAsync(rest[0], HttpMethod.Put, $"/paxos/{alone}", "y");
            return code == 200 && Chosen(body) == "y" ? "y chosen" : throw new TourFailure($"answered {code} {body} (expected y chosen)");
        });
        await t.ClaimAsync($"node {a} is an Up, reachable member in every view again", s =>
            (s.Values.All(x => x is not null && x.Members.Count(m => m.Status == "Up" && m.Reachable) == t.Nodes),
                string.Join("; ", s.Select(kv => $"node {kv.Key}: {(kv.Value is null ? "down" : $"{kv.Value.Members.Count(m => m.Status == "Up" && m.Reachable)} up and reachable")}"))),
            "whole again", TimeSpan.FromSeconds(60));
    }

    private static string? Chosen(string body)
    {
        try { return JsonDocument.Parse(body).RootElement.GetProperty("chosen").GetString(); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return null; }
    }

    private static List<string> Phases(string body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement.TryGetProperty("phases", out var p) && p.ValueKind == JsonValueKind.Array
                ? [.. p.EnumerateArray().Select(x => x.GetString() ?? "")] : [];
        }
        catch (JsonException) { return []; }
    }

    private static string Error(string body)
    {
        try { return JsonDocument.Parse(body).RootElement.GetProperty("error").GetString() ?? body; }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return body; }
    }
}
