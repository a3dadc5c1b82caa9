using System.Text.Json;

namespace DistSysActors.Node.Tour;

/// <summary>
/// `distsys tour partition`: the leader cut off from the others. The majority side elects a leader and keeps writing
/// (CP: consistency and, on the majority side, availability); the minority refuses writes and linearizable reads but
/// still answers stale reads (the AP choice, with an old value); heal, and everyone converges.
/// </summary>
internal static class PartitionTour
{
    public static async Task RunAsync(TourRun t)
    {
        var key = $"tour-p-{DateTime.UtcNow:HHmmss}";
        var (leader, term) = await t.StepAsync("the cluster is whole: one Raft leader that every node agrees on",
            () => t.UntilAsync<(int Leader, long Term)>("one agreed leader", s => RaftTour.Agreed(s) is { } a ? (a, "") : (null, TourRun.Roles(s))),
            a => $"node {a.Leader} leads in term {a.Term}");

        await t.StepAsync($"write {key}=before; it commits on every node", async () =>
        {
            var (code, body) = await t.SucceedAsync(leader, HttpMethod.Put, $"/kv/{key}", "before");
            if (code != 200) throw new TourFailure($"PUT answered {code}: {body}");
            var index = JsonDocument.Parse(body).RootElement.GetProperty("index").GetInt64();
            await t.UntilAsync<bool>("all applied", s => s.Values.All(x => x?.Raft?.LastApplied >= index) ? (true, "") : (null, TourRun.Roles(s)));
            return $"index {index} applied everywhere";
        });

        var majority = t.Ids.Where(i => i != leader).ToList();
        var spec = $"{leader}/{string.Join(",", majority)}";
        await t.StepAsync($"partition {spec}: the leader, node {leader}, is cut off from the others (Akka's own links too)", () => t.FaultsAsync(new { partition = spec }));

        await t.ClaimAsync($"Akka.Cluster on the majority side marks node {leader} unreachable", s =>
            (majority.All(m => s[m]?.Members.Any(x => x.NodeId == leader && !x.Reachable) == true),
                string.Join("; ", majority.Select(m => $"node {m} sees {leader} {(s[m]?.Members.FirstOrDefault(x => x.NodeId == leader) is { } x ? (x.Reachable ? "reachable" : "unreachable") : "absent")}"))),
            "unreachable");

        var (newLeader, _) = await t.StepAsync($"the majority ({string.Join(",", majority)}) elects a new leader in a term above {term}",
            () => t.UntilAsync<(int, long)>("a majority leader", s => majority.FirstOrDefault(m => s[m]?.Raft is { Role: "Leader" } r && r.Term > term) is var m and > 0
                ? ((m, s[m]!.Raft!.Term), "") : (null, TourRun.Roles(s))),
            a => $"node {a.Item1} leads in term {a.Item2}");

        await t.StepAsync($"the majority stays available: write {key}=after through node {newLeader} commits", async () =>
        {
            var (code, body) = await t.SucceedAsync(newLeader, HttpMethod.Put, $"/kv/{key}", "after");
            return code == 200 ? $"committed ({body})" : throw new TourFailure($"PUT answered {code}: {body}");
        });

        await t.StepAsync($"CP on the minority: old leader node {leader} cannot reach a quorum, so a write there is refused, not accepted and lost", async () =>
        {
            var (code, body) = await t.SendAsync(leader, HttpMethod.Put, $"/kv/{key}", "minority");
            return code == 503 ? $"503 {body}" : throw new TourFailure($"PUT on the minority answered {code}: {body} (expected 503)");
        });

        await t.StepAsync($"a linearizable read on node {leader} is refused too; a stale read answers at once, with the old value (what an AP store would do)", async () =>
        {
            var (lin, linBody) = await t.SendAsync(leader, HttpMethod.Get, $"/kv/{key}?consistency=linearizable");
            if (lin == 200) throw new TourFailure($"a linearizable read on the minority answered 200 {linBody}");
            var (stale, staleBody) = await t.SendAsync(leader, HttpMethod.Get, $"/kv/{key}?consistency=stale");
            return stale == 200 && staleBody == "before" ? $"linearizable {lin}; stale 200 \"{staleBody}\"" : throw new TourFailure($"the stale read answered {stale}: {staleBody} (expected 200 before)");
        });

        await t.StepAsync("heal the partition", () => t.FaultsAsync(null));

        await t.StepAsync($"after the heal node {leader} is reachable again, follows node {newLeader}'s term and reads \"after\"", async () =>
        {
            await t.UntilAsync<bool>("reachable everywhere", s => s.Values.All(x => x is not null && x.Members.All(m => m.Reachable)) ? (true, "") : (null, TourRun.Roles(s)),
                TimeSpan.FromSeconds(60));
            await t.UntilAsync<(int Leader, long Term)>("one agreed leader", s => RaftTour.Agreed(s) is { } a ? (a, "") : (null, TourRun.Roles(s)), TimeSpan.FromSeconds(30));
            var deadline = DateTime.UtcNow + t.ClaimTimeout;
            while (true)
            {
                var (code, body) = await t.SendAsync(leader, HttpMethod.Get, $"/kv/{key}?consistency=stale");
                if (code == 200 && body == "after") return "it holds \"after\"; the refused write \"minority\" never happened";
                if (DateTime.UtcNow > deadline) throw new TourFailure($"node {leader} still reads {code} {body}");
                await Task.Delay(200);
            }
        });
    }
}
