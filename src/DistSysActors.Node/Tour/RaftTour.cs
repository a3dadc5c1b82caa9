using System.Text.Json;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Tour;

/// <summary>`distsys tour raft`: an election, a write, the leader killed, a new leader, the write survives, the old leader catches up.</summary>
internal static class RaftTour
{
    public static async Task RunAsync(TourRun t)
    {
        var key = $"tour-{DateTime.UtcNow:HHmmss}";
        await t.ClaimAsync($"{t.Nodes} nodes run; each one is an Up member in every node's Akka.Cluster view", s =>
            (s.Values.All(x => x is not null && x.Members.Count(m => m.Status == "Up" && m.Reachable) == t.Nodes),
                string.Join("; ", s.Select(kv => $"node {kv.Key}: {(kv.Value is null ? "down" : $"{kv.Value.Members.Count(m => m.Status == "Up" && m.Reachable)} up and reachable")}"))),
            "all Up");

        var (leader, term) = await t.StepAsync("Raft elected one leader, and every node agrees on who it is and on the term",
            () => t.UntilAsync<(int Leader, long Term)>("one agreed leader", s => Agreed(s) is { } a ? (a, "") : (null, TourRun.Roles(s))),
            a => $"node {a.Leader} leads in term {a.Term}");

        var follower = t.Ids.First(i => i != leader);
        var index = await t.StepAsync($"write {key}=1 through follower node {follower}: it forwards to leader {leader}, which commits it on a quorum",
            async () =>
            {
                var (code, body) = await t.SucceedAsync(follower, HttpMethod.Put, $"/kv/{key}", "1");
                if (code != 200) throw new TourFailure($"PUT answered {code}: {body}");
                return JsonDocument.Parse(body).RootElement.GetProperty("index").GetInt64();
            }, i => $"committed at log index {i}");

        await t.ClaimAsync($"every node applies index {index}", s =>
            (s.Values.All(x => x?.Raft?.LastApplied >= index), string.Join(", ", s.Select(kv => $"node {kv.Key} applied {kv.Value?.Raft?.LastApplied.ToString() ?? "?"}"))),
            "applied everywhere");

        await t.StepAsync($"kill -9 the leader, node {leader} (a crash: it says goodbye to nobody)", () => t.LauncherAsync(leader, "kill"));

        var started = DateTime.UtcNow;
        var (newLeader, newTerm) = await t.StepAsync($"the others stop hearing heartbeats; after an election timeout one of them becomes leader in a term above {term}",
            () => t.UntilAsync<(int Key, long Term)>("a new leader", s =>
            {
                var others = s.Where(kv => kv.Key != leader && kv.Value?.Raft is { Role: "Leader" } r && r.Term > term).Select(kv => (kv.Key, kv.Value!.Raft!.Term)).ToList();
                return others.Count == 1 ? (others[0], "") : (null, TourRun.Roles(s));
            }), a => $"node {a.Key} leads in term {a.Term}, {(DateTime.UtcNow - started).TotalSeconds:0.0} s after the kill");

        await t.StepAsync($"the write survived: a linearizable read of {key} through new leader {newLeader} answers 1", async () =>
        {
            var (code, body) = await t.SucceedAsync(newLeader, HttpMethod.Get, $"/kv/{key}?consistency=linearizable");
            return code == 200 && body == "1" ? $"read {body}" : throw new TourFailure($"GET answered {code}: {body}");
        });

        var index2 = await t.StepAsync($"with node {leader} down, 2 of 3 is still a quorum: write {key}=2 commits", async () =>
        {
            var (code, body) = await t.SucceedAsync(newLeader, HttpMethod.Put, $"/kv/{key}", "2");
            if (code != 200) throw new TourFailure($"PUT answered {code}: {body}");
            return JsonDocument.Parse(body).RootElement.GetProperty("index").GetInt64();
        }, i => $"committed at log index {i}");

        await t.StepAsync($"restart node {leader}: it recovers its log from disk", () => t.LauncherAsync(leader, "restart"));

        await t.ClaimAsync($"node {leader} rejoins as a follower of node {newLeader} and catches up to index {index2}", s =>
            (s[leader]?.Raft is { } r && r.Role == "Follower" && r.LastApplied >= index2, TourRun.Roles(s)),
            $"node {leader} caught up", TimeSpan.FromSeconds(60));
    }

    /// <summary>The leader and term every answering node agrees on, when exactly one node leads.</summary>
    public static (int Leader, long Term)? Agreed(Dictionary<int, StatusDto?> s)
    {
        var leaders = s.Where(kv => kv.Value?.Raft?.Role == "Leader").ToList();
        if (leaders.Count != 1 || s.Values.Any(x => x is null)) return null;
        var (id, status) = (leaders[0].Key, leaders[0].Value!);
        return s.Values.All(x => x!.Raft!.LeaderId == id && x.Raft.Term == status.Raft!.Term) ? (id, status.Raft!.Term) : null;
    }
}
