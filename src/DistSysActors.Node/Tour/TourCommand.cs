using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using DistSysActors.Node.Commands;
using DistSysActors.Node.Dashboard;
using DistSysActors.Node.Local;

namespace DistSysActors.Node.Tour;

/// <summary>
/// `distsys tour [TOPIC]`: a scripted scenario per topic on a local cluster, narrated in the terminal and on the
/// dashboard, each claim checked against the nodes' /status; exit 1 when the cluster does not behave as narrated.
/// </summary>
internal static class TourCommand
{
    /// <param name="NodeArgs">Arguments per node for a cluster the tour starts itself (the clocks tour's skews).</param>
    private sealed record Topic(string Name, string What, Func<TourRun, Task>? Run, string? Absent = null, Func<int, IReadOnlyList<string>>? NodeArgs = null);

    /// <summary>The topics; one without <c>Run</c> says why it is absent (its protocol or its script is not in this build).</summary>
    private static readonly Topic[] Topics =
    [
        new("raft", "Raft election, a write, the leader killed with kill -9, a new leader, the old one catches up", RaftTour.RunAsync),
        new("partition", "the leader cut off: the majority goes on (CP), the minority refuses writes, stale reads stay available, heal", PartitionTour.RunAsync),
        new("paxos", "a Paxos duel: two proposers, one register, one value chosen; a proposer without a majority decides nothing", PaxosTour.RunAsync),
        new("2pc", "2PC blocking on a killed coordinator vs 3PC going on without it", TransactionsTour.RunAsync),
        new("idempotency", "a retried write with an Idempotency-Key: answered from the stored record, even after a leader kill", IdempotencyTour.RunAsync),
        new("clocks", "clock skew (-500/0/+500 ms) with Lamport/HLC ordering vs wall clock; starts its own skewed nodes (on free ports)", ClocksTour.RunAsync, NodeArgs: ClocksTour.NodeArgs),
        new("lag", "replication lag: a slowed follower's stale reads vs read-your-writes and monotonic session reads", LagTour.RunAsync),
        new("gossip", "SWIM membership and the AP store: a write spreads; a killed node turns dead, comes back and is refilled", GossipTour.RunAsync),
        new("detection", "failure detection with phi: a killed node's phi climbs past 8, Akka.Cluster follows, a restart brings it back", DetectionTour.RunAsync),
    ];

    public static Command Create()
    {
        var topic = new Argument<string?>("topic") { Description = "What to tour; without it, the list of topics", Arity = ArgumentArity.ZeroOrOne };
        var basePort = CommonOptions.BasePort();
        var httpBasePort = CommonOptions.HttpBasePort();
        var dataDir = new Option<string>("--data-dir") { Description = "Where a cluster the tour starts keeps its data", DefaultValueFactory = _ => "tour-data" };
        var keep = new Option<bool>("--keep") { Description = "Keep a cluster the tour started running afterwards (Ctrl+C stops it)" };
        var command = new Command("tour", "A narrated, self-checking scenario on a local cluster; run without a topic for the list. "
                                          + "Uses the cluster `distsys local` runs on these ports, else starts one (3 nodes).")
        {
            topic, basePort, httpBasePort, dataDir, keep,
        };
        command.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(topic);
            if (name is null or "list")
            {
                Console.WriteLine("distsys tour TOPIC — topics:");
                foreach (var t in Topics) Console.WriteLine($"  {t.Name,-18} {t.What}{(t.Run is null ? $"\n  {"",-18} ({t.Absent})" : "")}");
                return 0;
            }
            var chosen = Topics.FirstOrDefault(t => t.Name == name)
                         ?? throw new CommandException($"unknown tour '{name}'; topics: {string.Join(", ", Topics.Select(t => t.Name))}");
            if (chosen.Run is null) throw new CommandException($"the {chosen.Name} tour is {chosen.Absent}");
            return await RunAsync(chosen, parse.GetValue(basePort), parse.GetValue(httpBasePort), parse.GetValue(dataDir)!, parse.GetValue(keep), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(Topic topic, int basePort, int httpBasePort, string dataDir, bool keep, CancellationToken ct)
    {
        var launcherUrl = new Uri($"http://127.0.0.1:{httpBasePort}/");
        var existing = await ExistingLauncherNodesAsync(launcherUrl);
        // Nodes answer but the launcher did not: on a busy machine it may only be slow; ask it again before refusing.
        for (var retry = 0; existing is null && retry < 5 && await AnswersAsync($"http://127.0.0.1:{httpBasePort + 1}/health/live"); retry++)
        {
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            existing = await ExistingLauncherNodesAsync(launcherUrl);
        }
        if (existing is not null && topic.NodeArgs is not null)
            throw new CommandException($"the {topic.Name} tour starts its own nodes with their own settings, but a `distsys local` cluster runs on these ports: "
                                       + "stop it, or give the tour free ports (--http-base-port, --base-port)");
        if (existing is { } n)
        {
            Console.WriteLine($"using the cluster of {n} nodes `distsys local` runs; watch it on {launcherUrl}");
            return await TourAsync(topic, n, httpBasePort, launcherUrl);
        }
        if (await AnswersAsync($"http://127.0.0.1:{httpBasePort + 1}/health/live"))
            throw new CommandException($"a node answers on port {httpBasePort + 1} but no `distsys local` launcher on {httpBasePort}: the tour kills and "
                                       + "restarts nodes through the launcher. Stop that cluster, or give the tour other ports (--http-base-port, --base-port)");

        const int nodes = 3;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        await using var cluster = new LocalCluster(nodes, basePort, httpBasePort, dataDir, []) { NodeExtraArgs = topic.NodeArgs };
        await using var dashboard = await LocalDashboard.StartAsync(cluster, httpBasePort);
        if (cluster.LauncherUrl is null) throw new CommandException($"the tour needs port {httpBasePort} for its dashboard and launcher; it is taken");
        Console.WriteLine($"starting {nodes} nodes (data under {cluster.DataDir}); watch the tour on {dashboard.Url}");
        cluster.Start();
        if (!await cluster.WaitReadyAsync(stop.Token))
        {
            await Console.Error.WriteLineAsync("distsys: the cluster did not become ready; see the node logs under " + cluster.DataDir);
            return 1;
        }
        var code = await TourAsync(topic, nodes, httpBasePort, launcherUrl);
        if (keep && !stop.IsCancellationRequested)
        {
            Console.WriteLine($"the cluster keeps running ({dashboard.Url}); Ctrl+C stops it");
            try { await Task.Delay(Timeout.Infinite, stop.Token); }
            catch (OperationCanceledException) { }
        }
        Console.WriteLine("stopping the nodes the tour started...");
        return code;
    }

    private static async Task<int> TourAsync(Topic topic, int nodes, int httpBasePort, Uri launcher)
    {
        using var run = new TourRun(topic.Name, nodes, httpBasePort, launcher, Console.Out);
        Console.WriteLine($"tour {topic.Name}: {topic.What}");
        try
        {
            await topic.Run!(run);
            Console.WriteLine($"tour {topic.Name}: every step held.");
            return 0;
        }
        catch (TourFailure e)
        {
            await Console.Error.WriteLineAsync($"distsys: tour {topic.Name} FAILED: the cluster did not behave as narrated: {e.Message}");
            return 1;
        }
    }

    /// <summary>How many nodes the `distsys local` launcher on <paramref name="url"/> runs, or null when there is none.</summary>
    private static async Task<int?> ExistingLauncherNodesAsync(Uri url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            var state = JsonDocument.Parse(await http.GetStringAsync(new Uri(url, "/dashboard/launcher"))).RootElement;
            return state.GetProperty("available").GetBoolean() ? state.GetProperty("processes").GetArrayLength() : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException) { return null; }
    }

    private static async Task<bool> AnswersAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try { using var _ = await http.GetAsync(url); return true; }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
    }
}
