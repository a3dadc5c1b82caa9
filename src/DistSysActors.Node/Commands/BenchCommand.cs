using System.CommandLine;
using System.Diagnostics;
using System.Text;
using DistSysActors.Node.Client;
using DistSysActors.Node.Local;

namespace DistSysActors.Node.Commands;

/// <summary>`distsys bench ...`: measurements on a local cluster this command starts and stops itself.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks on a local cluster started for the purpose (kv also against running nodes)");
        var nodes = CommonOptions.NodeCount(3);
        var kills = new Option<int>("--kills") { Description = "How many leader crashes to measure (1..100)", DefaultValueFactory = _ => 10 };
        kills.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 100) r.AddError("--kills must be between 1 and 100"); });
        var basePort = CommonOptions.Port("--base-port", 14050, "Akka.Remote port of node I is base-port + I");
        var httpBasePort = CommonOptions.Port("--http-base-port", 18080, "HTTP port of node I is http-base-port + I");
        var consensus = CommonOptions.Consensus();
        var failover = new Command("failover", "kill -9 the leader (Raft or Multi-Paxos) repeatedly; measure the time until a write through another node succeeds")
        {
            nodes, kills, basePort, httpBasePort, consensus,
        };
        failover.SetAction((p, ct) => FailoverAsync(p.GetValue(nodes), p.GetValue(kills), p.GetValue(basePort), p.GetValue(httpBasePort), p.GetValue(consensus)!, ct));
        command.Subcommands.Add(failover);
        command.Subcommands.Add(BenchDetectCommand.Create());
        command.Subcommands.Add(BenchElectionCommand.Create());
        command.Subcommands.Add(BenchGossipCommand.Create());
        command.Subcommands.Add(BenchKvCommand.Create());
        command.Subcommands.Add(BenchNemesisCommand.Create());
        command.Subcommands.Add(BenchBankCommand.Create());
        return command;
    }

    private static async Task<int> FailoverAsync(int nodes, int kills, int basePort, int httpBasePort, string consensus, CancellationToken ct)
    {
        if (nodes < 3) throw new CommandException("failover needs at least 3 nodes");
        var dataDir = Path.Combine(Path.GetTempPath(), $"distsys-bench-{Environment.ProcessId}");
        var cluster = new LocalCluster(nodes, basePort, httpBasePort, dataDir, CommonOptions.ConsensusArgs(consensus)) { Quiet = true };
        var samples = new List<double>();
        await using (cluster)
        {
            cluster.Start();
            if (!await cluster.WaitReadyAsync(ct)) throw new CommandException("the cluster did not become ready");
            Console.WriteLine($"{nodes} nodes on {consensus} ready; {kills} leader kills follow");
            for (var round = 1; round <= kills; round++)
            {
                var leader = await LeaderAsync(nodes, httpBasePort, ct);
                var writer = Enumerable.Range(1, nodes).First(i => i != leader);
                using var client = new NodeClient(writer, httpBasePort + writer);
                var watch = Stopwatch.StartNew();
                cluster.Kill(leader);
                while (true)
                {
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    attempt.CancelAfter(TimeSpan.FromMilliseconds(200));
                    try
                    {
                        var (code, _) = await client.SendAsync(HttpMethod.Put, $"/kv/failover-{round}", new StringContent("x", Encoding.UTF8), attempt.Token);
                        if (code == 200) break;
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested) { }
                    if (watch.Elapsed > TimeSpan.FromSeconds(30)) throw new CommandException($"no write succeeded within 30 s after killing leader {leader}");
                }
                samples.Add(watch.Elapsed.TotalMilliseconds);
                Console.WriteLine($"kill {round}: leader {leader} killed; write through node {writer} succeeded after {watch.Elapsed.TotalMilliseconds:0} ms");
                cluster.StartNode(leader);
                if (!await cluster.WaitReadyAsync(ct)) throw new CommandException($"node {leader} did not rejoin");
            }
        }
        samples.Sort();
        Console.WriteLine($"failover over {samples.Count} leader kills: p50 {Percentile(samples, 0.5):0} ms, max {samples[^1]:0} ms, min {samples[0]:0} ms");
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        return 0;
    }

    private static async Task<int> LeaderAsync(int nodes, int httpBasePort, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            for (var id = 1; id <= nodes; id++)
            {
                using var c = new NodeClient(id, httpBasePort + id);
                try
                {
                    var status = await c.StatusAsync(ct);
                    if (status.Raft is { Role: "Leader" } || status.Paxos is { Role: "Leader" }) return id;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            }
            await Task.Delay(100, ct);
        }
        throw new CommandException("no leader found");
    }

    public static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}
