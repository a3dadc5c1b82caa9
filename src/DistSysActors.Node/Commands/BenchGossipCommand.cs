using System.CommandLine;
using DistSysActors.Node.Bench;
using static DistSysActors.Node.Bench.GossipBenchCluster;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys bench gossip --nodes N`: N actor systems in this process over real remoting on loopback, each running our
/// SWIM membership and Akka.Cluster. Measures how long until a join, a graceful leave and a silent failure (every link
/// of the node blackholed at once, as kill -9 looks to its peers) are known by every member, ours against
/// Akka.Cluster's gossip, and the messages each member sends per second while nothing happens.
/// </summary>
internal static class BenchGossipCommand
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(120);

    public static Command Create()
    {
        var nodes = CommonOptions.NodeCount(5, max: 50);
        var window = CommonOptions.Int("--window-seconds", 10, 1, 600, "How long the steady message rate is measured, in seconds");
        var basePort = CommonOptions.Port("--base-port", 18150, "Akka.Remote port of node I is base-port + I");
        var command = new Command("gossip",
            "N in-process actor systems over real remoting: time until a join, a leave and a kill -9-like failure are known by every member, our SWIM against Akka.Cluster's gossip, and messages per member per second")
        {
            nodes, window, basePort,
        };
        command.SetAction((p, ct) => RunAsync(p.GetValue(nodes), p.GetValue(window), p.GetValue(basePort), ct));
        return command;
    }

    private static async Task<int> RunAsync(int nodes, int windowSeconds, int basePort, CancellationToken ct)
    {
        if (nodes < 3) throw new CommandException("gossip needs at least 3 nodes: one joins and leaves, one fails, one observes");
        var dataDir = Path.Combine(Path.GetTempPath(), $"distsys-bench-gossip-{Environment.ProcessId}");
        var rows = new List<(string Event, string What, double? Ours, double? Akka)>();
        await using (var bench = new GossipBenchCluster(basePort, dataDir))
        {
            var founders = Enumerable.Range(1, nodes - 1).ToArray();
            Console.WriteLine($"starting {founders.Length} actor systems (remoting on 127.0.0.1:{basePort + 1}..{basePort + founders.Length}), then node {nodes} joins");
            foreach (var id in founders) bench.Start(id, founders.Length);
            await AwaitAsync(bench.SettledAsync, TimeSpan.FromSeconds(60 + 10 * nodes), "every member sees every other alive (SWIM) and Up (Akka.Cluster)", ct);

            // Steady state: messages sent per member per second.
            var (akka0, ours0) = bench.MessagesSent;
            var swim0 = await SwimMessagesAsync(bench, founders);
            await Task.Delay(TimeSpan.FromSeconds(windowSeconds), ct);
            var (akka1, ours1) = bench.MessagesSent;
            var swim1 = await SwimMessagesAsync(bench, founders);
            double Rate(long delta) => delta / (double)founders.Length / windowSeconds;
            Console.WriteLine($"steady, {founders.Length} members, {windowSeconds} s: remote messages per member per second: SWIM {Rate(ours1 - ours0):0.0} " +
                              $"(its own counter: {Rate(swim1 - swim0):0.0}), Akka.Cluster {Rate(akka1 - akka0):0.0}");

            // Join.
            var joiner = nodes;
            var t0 = bench.NowMs;
            bench.Start(joiner, nodes);
            rows.Add(("join", $"node {joiner} alive / Up at every member", await KnownAsync(bench, founders, joiner, SwimAlive, t0, ct), await KnownAsync(bench, founders, joiner, AkkaUp, t0, ct)));
            await AwaitAsync(bench.SettledAsync, TimeSpan.FromSeconds(60 + 10 * nodes), "every member sees every other alive and Up after the join", ct);

            // Graceful leave.
            t0 = bench.NowMs;
            bench.Leave(joiner);
            var leaveKnown = await KnownAsync(bench, founders, joiner, SwimDead, t0, ct);
            rows.Add(("leave", $"node {joiner} dead (SWIM) / Leaving (Akka) at every member", leaveKnown, await KnownAsync(bench, founders, joiner, AkkaLeaving, t0, ct)));
            rows.Add(("leave", $"node {joiner} removed at every member", null, await KnownAsync(bench, founders, joiner, AkkaRemoved, t0, ct)));
            await bench.StopAsync(joiner);

            // A silent failure: node 2 cut off from everyone at once (node 1, the first seed, stays).
            var victim = 2;
            var survivors = founders.Where(i => i != victim).ToArray();
            t0 = bench.NowMs;
            await bench.CutOffAsync(victim);
            rows.Add(("failure", $"node {victim} suspected (SWIM) / unreachable (Akka) at every survivor",
                await KnownAsync(bench, survivors, victim, SwimSuspect, t0, ct), await KnownAsync(bench, survivors, victim, AkkaUnreachable, t0, ct)));
            rows.Add(("failure", $"node {victim} dead (SWIM) / downed and removed (Akka, Split Brain Resolver) at every survivor",
                await KnownAsync(bench, survivors, victim, SwimDead, t0, ct), await KnownAsync(bench, survivors, victim, AkkaRemoved, t0, ct)));
            await bench.StopAsync(victim);
        }
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        catch (UnauthorizedAccessException) { }

        Console.WriteLine();
        Console.WriteLine($"time until every member knows, N = {nodes} (ms from the event to the last member's first notice):");
        Console.WriteLine($"  {"event",-8} {"SWIM",8} {"Akka",8}  what");
        foreach (var (e, what, ours, akka) in rows)
            Console.WriteLine($"  {e,-8} {Ms(ours),8} {Ms(akka),8}  {what}");
        return 0;
    }

    private static string Ms(double? ms) => ms is { } v ? $"{v:0}" : "-";

    private static async Task<long> SwimMessagesAsync(GossipBenchCluster bench, IEnumerable<int> ids)
    {
        long sum = 0;
        foreach (var id in ids) sum += (await bench.SwimStatusAsync(id)).MessagesSent;
        return sum;
    }

    private static async Task<double> KnownAsync(GossipBenchCluster bench, int[] observers, int subject, string kind, double sinceMs, CancellationToken ct)
    {
        double? known = null;
        await AwaitAsync(() => Task.FromResult((known = bench.KnownByAll(observers, subject, kind, sinceMs)) is not null), EventTimeout,
            $"{kind} of node {subject} at every one of nodes {string.Join(",", observers)}", ct);
        return known!.Value;
    }

    private static async Task AwaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new CommandException($"not within {timeout.TotalSeconds:0} s: {what}");
            await Task.Delay(50, ct);
        }
    }
}
