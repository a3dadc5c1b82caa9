using DistSysActors.Node.Http;

namespace DistSysActors.Node.Tour;

/// <summary>
/// `distsys tour detection`: our phi accrual failure detector beside Akka.Cluster's. A node is killed with kill -9;
/// on the others its phi climbs past the threshold (8) and our detector suspects it, then Akka.Cluster marks it
/// unreachable too; restarted, its phi falls back and both see it again.
/// </summary>
internal static class DetectionTour
{
    private const double Threshold = 8.0;

    public static async Task RunAsync(TourRun t)
    {
        await t.ClaimAsync("every node hears heartbeats from every other: phi is low, our detector and Akka.Cluster both say available", s =>
            (s.Values.All(x => x?.FailureDetector is { } fd && fd.Peers.Count == t.Nodes - 1 && fd.Peers.All(p => p.Available && p.AkkaReachable && p.Phi < Threshold)), Phis(s, null)),
            "all available");

        var (leader, _) = await t.StepAsync("find a node to kill that is not the Raft leader (so the cluster keeps serving)",
            () => t.UntilAsync<(int Leader, long Term)>("one agreed leader", s => RaftTour.Agreed(s) is { } a ? (a, "") : (null, TourRun.Roles(s))),
            a => $"node {a.Leader} leads; node {(a.Leader == t.Nodes ? 1 : t.Nodes)} will be killed");
        var victim = leader == t.Nodes ? 1 : t.Nodes;
        var watchers = t.Ids.Where(i => i != victim).ToList();

        await t.StepAsync($"kill -9 node {victim}: its heartbeats stop without a goodbye", () => t.LauncherAsync(victim, "kill"));

        var killed = DateTime.UtcNow;
        await t.StepAsync($"on nodes {string.Join(",", watchers)} the phi of node {victim} climbs past {Threshold} as its silence outgrows the heartbeat history; our detector suspects it",
            async () =>
            {
                await t.UntilAsync<bool>("phi above the threshold", s =>
                    watchers.All(w => Peer(s, w, victim) is { Available: false, Phi: >= Threshold }) ? (true, "") : (null, Phis(s, victim)));
                return $"suspected {(DateTime.UtcNow - killed).TotalSeconds:0.0} s after the kill; {Phis(await t.StatusesAsync(), victim)}";
            });

        await t.StepAsync($"Akka.Cluster's own detector (its own phi, with a longer acceptable pause) marks node {victim} unreachable as well",
            async () =>
            {
                await t.UntilAsync<bool>("Akka unreachable", s =>
                    watchers.All(w => Peer(s, w, victim) is { AkkaReachable: false }) ? (true, "") : (null, Phis(s, victim)));
                return $"unreachable {(DateTime.UtcNow - killed).TotalSeconds:0.0} s after the kill";
            });

        await t.StepAsync($"restart node {victim}", () => t.LauncherAsync(victim, "restart"));

        await t.ClaimAsync($"its heartbeats are back: on every other node the phi of node {victim} falls below {Threshold} and both detectors see it available",
            s => (s[victim] is not null && watchers.All(w => Peer(s, w, victim) is { Available: true, AkkaReachable: true, Phi: < Threshold }), Phis(s, victim)),
            "available again", TimeSpan.FromSeconds(60));
    }

    private static FailureDetectorPeerDto? Peer(Dictionary<int, StatusDto?> s, int watcher, int peer) =>
        s[watcher]?.FailureDetector?.Peers.FirstOrDefault(p => p.NodeId == peer);

    private static string Phis(Dictionary<int, StatusDto?> s, int? only) =>
        string.Join("; ", s.Where(kv => kv.Value?.FailureDetector is not null).SelectMany(kv => kv.Value!.FailureDetector!.Peers
            .Where(p => only is null || p.NodeId == only)
            .Select(p => $"node {kv.Key} sees {p.NodeId}: phi {(p.Phi is { } phi ? phi.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) : "-")} {(p.Available ? "available" : "suspected")}{(p.AkkaReachable ? "" : ", Akka unreachable")}")));
}
