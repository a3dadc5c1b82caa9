using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using DistSysActors.Node.Client;
using DistSysActors.Node.Local;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys bench election`: kill -9 the leader of each election mechanism in turn on a local cluster and time how long
/// until the survivors name a new one: Raft (a survivor leads in a higher term), Bully (every survivor follows a new
/// coordinator), Akka.Cluster (every survivor names another leader), Akka's Cluster Singleton (its host is killed; every
/// survivor reaches it on another node, which the resolver allows only after downing the dead one) and the lease (a
/// `distsys election hold` client process is killed; another candidate campaigns until it wins).
/// </summary>
internal static class BenchElectionCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ElectTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The mechanisms whose leader is a node, killed in this order each round.</summary>
    private static readonly string[] Mechanisms = ["raft", "bully", "akka", "singleton"];

    public static Command Create()
    {
        var nodes = CommonOptions.NodeCount(3);
        var rounds = CommonOptions.Int("--rounds", 3, 1, 50, "How many kills to measure per mechanism");
        var ttl = new Option<long>("--ttl-ms") { Description = "The lease holder's TTL", DefaultValueFactory = _ => 2_000 };
        var basePort = CommonOptions.Port("--base-port", 16050, "Akka.Remote port of node I is base-port + I");
        var httpBasePort = CommonOptions.Port("--http-base-port", 20080, "HTTP port of node I is http-base-port + I");
        var command = new Command("election", "kill -9 the Raft leader, the Bully coordinator, Akka.Cluster's leader, the Cluster Singleton's host and a lease holder in turn; measure the time until a new leader is named")
        {
            nodes, rounds, ttl, basePort, httpBasePort,
        };
        command.SetAction((p, ct) => RunAsync(p.GetValue(nodes), p.GetValue(rounds), p.GetValue(ttl), p.GetValue(basePort), p.GetValue(httpBasePort), ct));
        return command;
    }

    private static async Task<int> RunAsync(int nodes, int rounds, long ttlMs, int basePort, int httpBasePort, CancellationToken ct)
    {
        if (nodes < 3) throw new CommandException("election needs at least 3 nodes, so the survivors keep a majority");
        var dataDir = Path.Combine(Path.GetTempPath(), $"distsys-bench-election-{Environment.ProcessId}");
        var cluster = new LocalCluster(nodes, basePort, httpBasePort, dataDir, []) { Quiet = true };
        var samples = new Dictionary<string, List<double>> { ["raft"] = [], ["bully"] = [], ["akka"] = [], ["singleton"] = [], ["lease"] = [] };
        await using (cluster)
        {
            cluster.Start();
            if (!await cluster.WaitReadyAsync(ct)) throw new CommandException("the cluster did not become ready");
            Console.WriteLine($"{nodes} nodes ready; {rounds} kills per mechanism follow");
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var mechanism in Mechanisms)
                {
                    await SettleAsync(nodes, httpBasePort, ct);
                    var (victim, ms) = await KillLeaderAsync(cluster, nodes, httpBasePort, mechanism, ct);
                    samples[mechanism].Add(ms);
                    Console.WriteLine($"round {round}, {mechanism}: leader node {victim} killed; new leader after {ms:0} ms");
                    cluster.StartNode(victim);
                    if (!await cluster.WaitReadyAsync(ct)) throw new CommandException($"node {victim} did not rejoin");
                }
                var leaseMs = await KillLeaseHolderAsync(httpBasePort, round, ttlMs, ct);
                samples["lease"].Add(leaseMs);
                Console.WriteLine($"round {round}, lease: holder process killed; another candidate won after {leaseMs:0} ms (TTL {ttlMs} ms)");
            }
        }
        Console.WriteLine();
        Console.WriteLine($"time from kill -9 to a new leader (poll every {PollInterval.TotalMilliseconds:0} ms):");
        foreach (var (mechanism, list) in samples)
        {
            var sorted = list.Order().ToList();
            Console.WriteLine($"  {mechanism,-6} p50 {BenchCommand.Percentile(sorted, 0.5):0} ms, max {sorted[^1]:0} ms, min {sorted[0]:0} ms (n = {sorted.Count})");
        }
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        return 0;
    }

    private static async Task<JsonNode?> StatusAsync(int id, int httpBasePort, CancellationToken ct)
    {
        using var client = new NodeClient(id, httpBasePort + id, timeout: TimeSpan.FromSeconds(2));
        try
        {
            var (code, body) = await client.SendAsync(HttpMethod.Get, "/status", null, ct);
            return code == 200 ? JsonNode.Parse(body) : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested) { return null; }
    }

    /// <summary>The leader each node names for a mechanism (null when it names none or does not answer).</summary>
    private static int? LeaderOf(JsonNode? status, string mechanism) => mechanism switch
    {
        "raft" => status?["raft"]?["role"]?.GetValue<string>() == "Leader" ? status["nodeId"]!.GetValue<int>() : status?["raft"]?["leaderId"]?.GetValue<int?>(),
        "bully" => status?["election"]?["bully"]?["state"]?.GetValue<string>() is "Leader" or "Follower" ? status["election"]!["bully"]!["leaderId"]?.GetValue<int?>() : null,
        "singleton" => status?["election"]?["akka"]?["singletonNodeId"]?.GetValue<int?>(),
        _ => status?["election"]?["akka"]?["leaderId"]?.GetValue<int?>(),
    };

    /// <summary>Waits until every node answers and names the same leader for every mechanism, with every member Up and reachable.</summary>
    private static async Task SettleAsync(int nodes, int httpBasePort, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < LocalCluster.DefaultReadyTimeout)
        {
            var statuses = await Task.WhenAll(Enumerable.Range(1, nodes).Select(id => StatusAsync(id, httpBasePort, ct)));
            if (statuses.All(s => s?["members"]?.AsArray().Count(m => m!["status"]!.GetValue<string>() == "Up" && m["reachable"]!.GetValue<bool>()) == nodes)
                && Mechanisms.All(m => statuses.Select(s => LeaderOf(s, m)).Distinct().Count() == 1 && LeaderOf(statuses[0], m) is not null))
                return;
            await Task.Delay(200, ct);
        }
        throw new CommandException("the cluster did not settle (one leader per mechanism, every member Up and reachable)");
    }

    private static async Task<(int Victim, double Ms)> KillLeaderAsync(LocalCluster cluster, int nodes, int httpBasePort, string mechanism, CancellationToken ct)
    {
        var victim = LeaderOf(await StatusAsync(1, httpBasePort, ct), mechanism) ?? throw new CommandException($"no {mechanism} leader");
        var survivors = Enumerable.Range(1, nodes).Where(i => i != victim).ToArray();
        var watch = Stopwatch.StartNew();
        cluster.Kill(victim);
        while (watch.Elapsed < ElectTimeout)
        {
            var statuses = await Task.WhenAll(survivors.Select(id => StatusAsync(id, httpBasePort, ct)));
            var named = statuses.Select(s => LeaderOf(s, mechanism)).ToList();
            // Raft: one survivor leads; Bully, Akka and the singleton: every survivor names the same new leader (host).
            var done = mechanism == "raft"
                ? statuses.Any(s => s?["raft"]?["role"]?.GetValue<string>() == "Leader")
                : named.All(l => l is { } id && id != victim) && named.Distinct().Count() == 1;
            if (done) return (victim, watch.Elapsed.TotalMilliseconds);
            await Task.Delay(PollInterval, ct);
        }
        throw new CommandException($"no new {mechanism} leader within {ElectTimeout.TotalSeconds:0} s of killing node {victim}");
    }

    /// <summary>Starts a `distsys election hold` client, kill -9s it once it holds the lease, and campaigns as another candidate until it wins.</summary>
    private static async Task<double> KillLeaseHolderAsync(int httpBasePort, int round, long ttlMs, CancellationToken ct)
    {
        var name = $"bench-{round}";
        var (fileName, prefix) = LocalCluster.SelfCommand();
        var info = new ProcessStartInfo(fileName) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(["election", "hold", name, "--candidate", "holder", "--ttl-ms", $"{ttlMs}", "--key", name, "--node", "2",
                     "--http-base-port", $"{httpBasePort}"]))
            info.ArgumentList.Add(a);
        using var holder = Process.Start(info) ?? throw new CommandException("cannot start the lease holder");
        while (await holder.StandardOutput.ReadLineAsync(ct) is { } line && !line.StartsWith("won token", StringComparison.Ordinal)) { }
        using var client = new NodeClient(1, httpBasePort + 1);
        var watch = Stopwatch.StartNew();
        holder.Kill();
        while (watch.Elapsed < ElectTimeout)
        {
            var (code, _) = await client.SendAsync(HttpMethod.Post, $"/election/{name}/campaign",
                new StringContent("""{"candidate": "successor", "ttlMs": 60000}""", Encoding.UTF8, "application/json"), ct);
            if (code == 200) return watch.Elapsed.TotalMilliseconds;
            await Task.Delay(PollInterval, ct);
        }
        throw new CommandException($"no candidate won the lease within {ElectTimeout.TotalSeconds:0} s of killing its holder");
    }
}
