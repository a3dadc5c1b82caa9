using System.CommandLine;
using System.Runtime.InteropServices;
using DistSysActors.Node.Local;

namespace DistSysActors.Node.Commands;

/// <summary>`distsys local`: a whole cluster of `distsys node` processes on this machine.</summary>
internal static class LocalCommand
{
    public static Command Create()
    {
        var nodes = CommonOptions.NodeCount(3);
        var basePort = CommonOptions.BasePort();
        var httpBasePort = CommonOptions.HttpBasePort();
        var dataDir = CommonOptions.DataDir();
        var readyTimeout = new Option<int>("--ready-timeout")
        {
            Description = "Seconds to wait until every node is ready before giving up and stopping them (a slow machine needs more)",
            DefaultValueFactory = _ => (int)LocalCluster.DefaultReadyTimeout.TotalSeconds,
        };
        readyTimeout.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int>();
            if (v < 1 || v > 3600) r.AddError($"--ready-timeout must be between 1 and 3600 seconds, was {v}");
        });
        var dashboardPort = new Option<int?>("--dashboard-port")
        {
            Description = "Port of the dashboard this launcher serves (default: the HTTP base port, just below node 1's; 0: none, use a node's page)",
        };
        dashboardPort.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } v && (v < 0 || v > 65535)) r.AddError($"--dashboard-port must be between 0 and 65535, was {v}");
        });
        var set = new Option<string[]>("--set") { Description = "Passed to every node: override one configuration key (repeatable)" };
        var command = new Command("local", "Start N nodes as child processes on localhost, wait until the cluster is ready, and watch it; Ctrl+C stops them all")
        {
            nodes, basePort, httpBasePort, dataDir, readyTimeout, dashboardPort, set,
        };
        command.SetAction(async (parse, ct) =>
        {
            var n = parse.GetValue(nodes);
            var sets = parse.GetValue(set) ?? [];
            // Check --set values here, so a typo fails once instead of in N children.
            NodeCommand.BuildConfig(1, n, parse.GetValue(basePort), parse.GetValue(httpBasePort), parse.GetValue(dataDir)!, sets);
            var cluster = new LocalCluster(n, parse.GetValue(basePort), parse.GetValue(httpBasePort), parse.GetValue(dataDir)!,
                sets.SelectMany(s => new[] { "--set", s }).ToList()) { ReadyTimeout = TimeSpan.FromSeconds(parse.GetValue(readyTimeout)) };
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            await using (cluster)
            {
                Console.WriteLine($"data directory {cluster.DataDir} (node I under node-I)");
                await using var dashboard = await LocalDashboard.StartAsync(cluster, parse.GetValue(dashboardPort) ?? parse.GetValue(httpBasePort));
                cluster.Start();
                Console.WriteLine($"waiting for {n} nodes to be Up (at most {cluster.ReadyTimeout.TotalSeconds:0} s)...");
                var started = DateTime.UtcNow;
                if (!await cluster.WaitReadyAsync(stop.Token))
                {
                    if (stop.IsCancellationRequested) return 130;
                    await Console.Error.WriteLineAsync("distsys: the cluster did not become ready; see the node logs above");
                    return 1;
                }
                Console.WriteLine($"cluster ready in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
                Console.WriteLine($"dashboard: {dashboard.Url}");
                for (var i = 1; i <= n; i++)
                    Console.WriteLine($"  node {i}: http://127.0.0.1:{parse.GetValue(httpBasePort) + i}   (status: curl http://127.0.0.1:{parse.GetValue(httpBasePort) + i}/status)");
                Console.WriteLine("try: distsys status | distsys fault partition 1,2/3 | distsys fault heal | kill -9 <pid>. Ctrl+C stops all nodes.");
                await cluster.WatchAsync(stop.Token);
                Console.WriteLine("stopping all nodes...");
            }
            return 0;
        });
        return command;
    }
}
