using System.CommandLine;
using System.Diagnostics;
using DistSysActors.Node.Client;
using DistSysActors.Node.Http;
using DistSysActors.Node.Local;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys bench detect`: kill -9 one node at a time and time how long until the survivors' heartbeat detectors
/// and Akka.Cluster mark it unavailable; then run with 10% message loss and no crashes, counting false suspicions.
/// </summary>
internal static class BenchDetectCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan DetectTimeout = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var nodes = CommonOptions.NodeCount(3);
        var kills = new Option<int>("--kills") { Description = "How many node crashes to measure (1..100)", DefaultValueFactory = _ => 10 };
        kills.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 100) r.AddError("--kills must be between 1 and 100"); });
        var dropSeconds = new Option<int>("--drop-seconds") { Description = "Length of the dropRate 0.1 phase counting false positives (0..3600; 0 skips it)", DefaultValueFactory = _ => 60 };
        dropSeconds.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 3600) r.AddError("--drop-seconds must be between 0 and 3600"); });
        var basePort = CommonOptions.Port("--base-port", 15050, "Akka.Remote port of node I is base-port + I");
        var httpBasePort = CommonOptions.Port("--http-base-port", 19080, "HTTP port of node I is http-base-port + I");
        var command = new Command("detect",
            "kill -9 one node at a time; measure how long until our heartbeat detector and Akka.Cluster on the survivors mark it unavailable; then count false positives under 10% message loss")
        {
            nodes, kills, dropSeconds, basePort, httpBasePort,
        };
        command.SetAction((p, ct) => RunAsync(p.GetValue(nodes), p.GetValue(kills), p.GetValue(dropSeconds), p.GetValue(basePort), p.GetValue(httpBasePort), ct));
        return command;
    }

    private static async Task<int> RunAsync(int nodes, int kills, int dropSeconds, int basePort, int httpBasePort, CancellationToken ct)
    {
        if (nodes < 3) throw new CommandException("detect needs at least 3 nodes, so the survivors keep a majority");
        var dataDir = Path.Combine(Path.GetTempPath(), $"distsys-bench-detect-{Environment.ProcessId}");
        var cluster = new LocalCluster(nodes, basePort, httpBasePort, dataDir, []) { Quiet = true };
        var clients = Enumerable.Range(0, nodes + 1).Select(i => new NodeClient(i, httpBasePort + i)).ToArray();
        var ours = new List<double>();
        var akka = new List<double>();
        try
        {
            await using (cluster)
            {
                cluster.Start();
                if (!await cluster.WaitReadyAsync(ct)) throw new CommandException("the cluster did not become ready");
                await AwaitSettledAsync(clients, nodes, ct);
                var detector = (await clients[1].StatusAsync(ct)).FailureDetector
                               ?? throw new CommandException("the failure detector is disabled (distsys.failure-detector.enabled)");
                Console.WriteLine($"{nodes} nodes ready; detector {detector.Detector}, heartbeat every {detector.HeartbeatIntervalMs} ms; {kills} kills follow");
                for (var round = 1; round <= kills; round++)
                {
                    // Never node 1: the first seed restarting while the others still quarantine its old incarnation can
                    // join itself and form a one-node cluster (Akka's first-seed rule), which this benchmark is not about.
                    var victim = (round - 1) % (nodes - 1) + 2;
                    var (oursMs, akkaMs) = await MeasureKillAsync(cluster, clients, nodes, victim, ct);
                    ours.AddRange(oursMs);
                    akka.AddRange(akkaMs);
                    Console.WriteLine($"kill {round}: node {victim}; our detector {string.Join(", ", oursMs.Select(ms => $"{ms:0}"))} ms, " +
                                      $"Akka.Cluster {string.Join(", ", akkaMs.Select(ms => $"{ms:0}"))} ms (one per survivor)");
                    cluster.StartNode(victim);
                    if (!await cluster.WaitReadyAsync(ct)) throw new CommandException($"node {victim} did not rejoin");
                    await AwaitSettledAsync(clients, nodes, ct);
                }
                Console.WriteLine();
                Console.WriteLine($"time from kill -9 to unavailable, over {kills} kills x {nodes - 1} survivors (poll every {PollInterval.TotalMilliseconds:0} ms):");
                Console.WriteLine($"  our detector:  {Summary(ours)}");
                Console.WriteLine($"  Akka.Cluster:  {Summary(akka)}");
                if (dropSeconds > 0) await FalsePositivesAsync(clients, nodes, dropSeconds, ct);
            }
        }
        finally { foreach (var c in clients) c.Dispose(); }
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        return 0;
    }

    /// <summary>Kills <paramref name="victim"/> and polls the survivors until each one's detector and Akka.Cluster view has marked it unavailable.</summary>
    private static async Task<(List<double> Ours, List<double> Akka)> MeasureKillAsync(
        LocalCluster cluster, NodeClient[] clients, int nodes, int victim, CancellationToken ct)
    {
        var survivors = Enumerable.Range(1, nodes).Where(i => i != victim).ToArray();
        var ours = new Dictionary<int, double>();
        var akka = new Dictionary<int, double>();
        var watch = Stopwatch.StartNew();
        cluster.Kill(victim);
        while (ours.Count < survivors.Length || akka.Count < survivors.Length)
        {
            if (watch.Elapsed > DetectTimeout) throw new CommandException($"node {victim} was not marked unavailable by every survivor within {DetectTimeout.TotalSeconds:0} s");
            var polls = survivors.Select(async s => (Survivor: s, Status: await TryStatusAsync(clients[s], ct))).ToArray();
            foreach (var (survivor, status) in await Task.WhenAll(polls))
            {
                // The answer's arrival time: an upper bound, late by at most one poll interval plus the request.
                var nowMs = watch.Elapsed.TotalMilliseconds;
                if (status is null) continue;
                if (!ours.ContainsKey(survivor) && status.FailureDetector?.Peers.FirstOrDefault(p => p.NodeId == victim) is { Available: false })
                    ours[survivor] = nowMs;
                if (!akka.ContainsKey(survivor) && !status.Members.Any(m => m.NodeId == victim && m.Reachable))
                    akka[survivor] = nowMs;
            }
            await Task.Delay(PollInterval, ct);
        }
        return (survivors.Select(s => ours[s]).ToList(), survivors.Select(s => akka[s]).ToList());
    }

    /// <summary>Applies dropRate 0.1 everywhere for the given time without crashes; every suspicion of a live peer is a false positive.</summary>
    private static async Task FalsePositivesAsync(NodeClient[] clients, int nodes, int seconds, CancellationToken ct)
    {
        var ids = Enumerable.Range(1, nodes).ToArray();
        var suspicionsBefore = new Dictionary<int, long>();
        var delivered = 0L;
        var dropped = 0L;
        foreach (var id in ids)
        {
            var before = await clients[id].StatusAsync(ct);
            suspicionsBefore[id] = before.FailureDetector!.Suspicions;
            delivered -= before.Network.Counters.Delivered;
            dropped -= before.Network.Counters.Dropped;
        }
        foreach (var id in ids)
        {
            using var response = await clients[id].PostFaultsAsync(new FaultSpecDto([], 0.1, [0, 0], 0, false, 1000 + id), ct);
            if (!response.IsSuccessStatusCode) throw new CommandException($"node {id} refused the fault spec: {await response.Content.ReadAsStringAsync(ct)}");
        }
        Console.WriteLine();
        Console.WriteLine($"dropRate 0.1 on every node for {seconds} s, no crashes:");
        var akkaReachable = new Dictionary<(int, int), bool>();
        var akkaFlips = 0;
        var oursSeenDown = 0;
        var maxPhi = 0.0;
        var polls = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            foreach (var id in ids)
            {
                if (await TryStatusAsync(clients[id], ct) is not { } status) continue;
                foreach (var m in status.Members.Where(m => m.NodeId is { } n && n != id))
                {
                    var key = (id, m.NodeId!.Value);
                    if (akkaReachable.TryGetValue(key, out var was) && was && !m.Reachable) akkaFlips++;
                    akkaReachable[key] = m.Reachable;
                }
                foreach (var p in status.FailureDetector?.Peers ?? [])
                {
                    if (!p.Available) oursSeenDown++;
                    maxPhi = Math.Max(maxPhi, p.Phi ?? 0);
                }
            }
            polls++;
            await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
        }
        long oursFlips = 0;
        foreach (var id in ids)
        {
            var status = await clients[id].StatusAsync(ct);
            oursFlips += status.FailureDetector!.Suspicions - suspicionsBefore[id];
            delivered += status.Network.Counters.Delivered;
            dropped += status.Network.Counters.Dropped;
            using var _ = await clients[id].HealAsync(ct);
        }
        Console.WriteLine($"  our detector:  {oursFlips} false suspicions (counted by each node), max phi of a live peer {maxPhi:0.###}, {oursSeenDown} unavailable rows in {polls} polls");
        Console.WriteLine($"  Akka.Cluster:  {akkaFlips} reachable -> unreachable flips seen in {polls} polls of every node's members[]");
        Console.WriteLine($"  network:       {dropped} of {dropped + delivered} protocol messages dropped during the phase ({100.0 * dropped / Math.Max(1, dropped + delivered):0.0}%; Akka.Cluster's own heartbeats do not pass the fault layer's drops)");
    }

    /// <summary>Waits until every node's detector and Akka.Cluster view find every other node available, so each kill starts from a healthy cluster.</summary>
    private static async Task AwaitSettledAsync(NodeClient[] clients, int nodes, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < LocalCluster.DefaultReadyTimeout)
        {
            var settled = true;
            for (var id = 1; id <= nodes && settled; id++)
            {
                settled = await TryStatusAsync(clients[id], ct) is { FailureDetector: { } fd } s
                          && fd.Peers.Count == nodes - 1 && fd.Peers.All(p => p.Available && p.Monitoring)
                          && s.Members.Count(m => m.Status == "Up" && m.Reachable) == nodes;
            }
            if (settled) return;
            await Task.Delay(200, ct);
        }
        throw new CommandException("the cluster did not settle (every detector and member view healthy)");
    }

    private static async Task<StatusDto?> TryStatusAsync(NodeClient client, CancellationToken ct)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attempt.CancelAfter(TimeSpan.FromSeconds(2));
        try { return await client.StatusAsync(attempt.Token); }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested) { return null; }
    }

    private static string Summary(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        return $"p50 {BenchCommand.Percentile(sorted, 0.5):0} ms, max {sorted[^1]:0} ms, min {sorted[0]:0} ms (n = {sorted.Count})";
    }
}
