using System.Diagnostics;
using DistSysActors.Node.Client;
using DistSysActors.Node.Http;
using DistSysActors.Node.Local;
using DistSysActors.Simulation.Checkers;
using static DistSysActors.Node.Commands.BenchNemesisCommand;

namespace DistSysActors.Node.Commands.Nemesis;

/// <summary>
/// One run of `distsys bench nemesis`: starts a fresh local cluster, runs the clients and the nemesis for the given
/// time, then heals, restarts every node, waits until all are ready, reads every key (linearizably, into the history)
/// and checks the history.
/// </summary>
internal static class NemesisRun
{
    private static readonly TimeSpan AdminTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan StatusPollInterval = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan FinalReadTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(Options o, CancellationToken ct)
    {
        var seed = o.Seed ?? Random.Shared.NextInt64(1, int.MaxValue);
        var dataDir = Path.GetFullPath(o.DataDir ?? Path.Combine(Path.GetTempPath(), $"distsys-bench-nemesis-{Environment.ProcessId}"));
        if (Directory.Exists(dataDir) && Directory.EnumerateFileSystemEntries(dataDir).Any())
            throw new CommandException($"--data-dir {dataDir} is not empty: the nemesis needs a fresh cluster (remove it or name another)");
        // Check --set values here, so a typo fails once instead of in N children.
        NodeCommand.BuildConfig(1, o.Nodes, o.BasePort, o.HttpBasePort, dataDir, o.Sets);

        Console.WriteLine($"bench nemesis: {o.Nodes} nodes, {o.Clients} clients on {o.Keys} keys ({o.ReadRatio:0.##} linearizable reads), "
                          + $"{o.RequestTimeoutMs} ms client timeout, {o.WriteRetries} retries of an unknown write, {o.Seconds} s");
        Console.WriteLine($"nemesis: {Describe(o.Faults)} every {o.IntervalMinMs / 1000.0:0.###}-{o.IntervalMaxMs / 1000.0:0.###} s; seed {seed} (replay with --seed {seed})");
        Console.WriteLine($"data directory {dataDir} (node I logs to node-I/node.log; every operation goes to history.jsonl)");

        NemesisSummary summary;
        await using (var cluster = new LocalCluster(o.Nodes, o.BasePort, o.HttpBasePort, dataDir, o.Sets.SelectMany(s => new[] { "--set", s }).ToList()) { Quiet = true })
        {
            cluster.Start();
            if (!await cluster.WaitReadyAsync(ct)) throw new CommandException($"the cluster did not become ready; node logs under {dataDir}");
            Console.WriteLine($"{o.Nodes} nodes ready");
            summary = await MeasureAsync(cluster, o, seed, ct);
        }
        Console.WriteLine(summary.Format());
        if (summary.Failed || o.KeepData) Console.WriteLine($"data and node logs kept in {dataDir}");
        else
        {
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
        return summary.ExitCode;
    }

    private static async Task<NemesisSummary> MeasureAsync(LocalCluster cluster, Options o, long seed, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var faults = new FaultState(o.Nodes);
        var history = new NemesisHistory();
        var leaders = new LeaderTracker();
        using var stopMonitor = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var monitor = Task.Run(() => MonitorAsync(o, faults, leaders, clock, stopMonitor.Token), CancellationToken.None);

        using var stopClients = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var clients = Enumerable.Range(1, o.Clients).Select(id =>
        {
            var client = new NemesisClient(id, o.Nodes, o.HttpBasePort, o.Keys, o.ReadRatio, o.RequestTimeoutMs, o.WriteRetries,
                new Random(unchecked((int)seed * 31 + id)), clock, history, faults.Describe);
            return Task.Run(() => client.RunAsync(stopClients.Token), CancellationToken.None);
        }).ToList();

        var schedule = new NemesisSchedule(o.Nodes, seed, o.IntervalMinMs, o.IntervalMaxMs, o.Faults);
        var durationMs = o.Seconds * 1000L;
        var steps = 0;
        var rejoining = new List<Task>();
        while (schedule.NextAtMs < durationMs)
        {
            await Delay(schedule.NextAtMs - clock.ElapsedMilliseconds, ct);
            foreach (var node in schedule.Recovering.ToList())
                if (await ReadyAsync(o, node, ct))
                {
                    schedule.Recovered(node);
                    Console.WriteLine($"[{clock.ElapsedMilliseconds / 1000.0,6:0.0} s] node {node} is ready again");
                }
            var step = schedule.Next(leaders.Current);
            steps++;
            Console.WriteLine($"[{clock.ElapsedMilliseconds / 1000.0,6:0.0} s] {step.Describe(o.Nodes)}");
            rejoining.Add(await ApplyAsync(cluster, o, step, faults, ct));
        }
        await Delay(durationMs - clock.ElapsedMilliseconds, ct);
        stopClients.Cancel();
        Console.WriteLine($"[{clock.ElapsedMilliseconds / 1000.0,6:0.0} s] clients stop; waiting for the answers still due");
        await Task.WhenAll(clients);

        // Heal, bring every node back, and read each key once more as part of the history.
        faults.Heal(); // partitions still being handed to starting nodes are dropped
        await Task.WhenAll(rejoining);
        await HealAsync(o, faults.Live(), ct);
        foreach (var node in faults.Killed()) cluster.StartNode(node);
        faults.Clear();
        Console.WriteLine($"[{clock.ElapsedMilliseconds / 1000.0,6:0.0} s] healed and restarted every node; waiting until all are ready");
        if (!await cluster.WaitReadyAsync(ct)) Console.WriteLine("warning: not every node became ready; reading the final values anyway");
        var finals = new List<OpRecord>();
        var reads = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var key = 0; key < o.Keys; key++)
            if (await FinalReadAsync(o, NemesisClient.KeyName(key), clock, ct) is { } final)
            {
                finals.Add(final);
                reads[final.Key] = final.Result.Found ? final.Result.Value : null;
            }
        stopMonitor.Cancel();
        await monitor;

        var ops = history.Operations;
        await WriteHistoryAsync(Path.Combine(cluster.DataDir, "history.jsonl"), ops.Concat(finals), ct);
        if (history.Truncated) Console.WriteLine($"warning: only the first {NemesisHistory.OperationsMax} operations were recorded and checked");
        Console.WriteLine($"checking {ops.Count + finals.Count} operations for linearizability...");
        var check = LinearizabilityChecker.Check(NemesisHistory.ForChecker(ops.Concat(finals)));
        var verification = BenchKvVerification.Check(NemesisHistory.Writes(ops), reads);
        return new NemesisSummary(seed, ops, check, verification, leaders.Changes(), leaders.Leaderships.Skip(1).Select(l => l.AtMs).ToList(), steps);
    }

    /// <summary>
    /// Carries out one step; returns the task that hands the partition to nodes not answering yet (restarted ones) once
    /// they do, or a done task. Every node gets a fault change at once (in parallel), so a partition forms in one go.
    /// </summary>
    private static async Task<Task> ApplyAsync(LocalCluster cluster, Options o, NemesisStep step, FaultState faults, CancellationToken ct)
    {
        switch (step.Kind)
        {
            case NemesisStepKind.KillLeader or NemesisStepKind.KillNode:
                faults.Kill(step.Nodes[0]);
                cluster.Kill(step.Nodes[0]);
                return Task.CompletedTask;
            case NemesisStepKind.Restart:
                var node = step.Nodes[0];
                cluster.StartNode(node);
                faults.Restart(node);
                // A restarted node starts without faults: it gets the partition in force once its API answers.
                return faults.Partition() is { } spec ? Task.Run(() => PostWhenUpAsync(o, node, spec, faults, ct), CancellationToken.None) : Task.CompletedTask;
            case NemesisStepKind.Heal:
                faults.Heal();
                await HealAsync(o, faults.Live(), ct);
                return Task.CompletedTask;
            default:
                faults.Isolate(step.Nodes);
                var partition = faults.Partition()!;
                var posts = Task.WhenAll(faults.Live().Select(id => Task.Run(() => PostWhenUpAsync(o, id, partition, faults, ct), CancellationToken.None)));
                // A node still starting answers later; the nemesis goes on meanwhile.
                await Task.WhenAny(posts, Task.Delay(AdminTimeout, ct));
                return posts;
        }
    }

    /// <summary>Heals every node given at once; one not listening is starting again, and starts without faults.</summary>
    private static Task HealAsync(Options o, IEnumerable<int> nodes, CancellationToken ct) => Task.WhenAll(nodes.Select(async id =>
    {
        using var client = new NodeClient(id, o.HttpBasePort + id, timeout: AdminTimeout);
        try { using var _ = await client.HealAsync(ct); }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError) { }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            Console.WriteLine($"  node {id} did not take the heal: {e.Message}");
        }
    }));

    /// <summary>
    /// Gives node <paramref name="id"/> the partition <paramref name="spec"/>, trying again while it does not answer (it is
    /// starting) for up to 30 s, as long as that partition is still in force and the node alive.
    /// </summary>
    private static async Task PostWhenUpAsync(Options o, int id, FaultSpecDto spec, FaultState faults, CancellationToken ct)
    {
        using var client = new NodeClient(id, o.HttpBasePort + id, timeout: AdminTimeout);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var last = "";
        while (DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
        {
            if (!ReferenceEquals(faults.Partition(), spec) || !faults.Live().Contains(id)) return;
            try
            {
                using var response = await client.PostFaultsAsync(spec, ct);
                if ((int)response.StatusCode is 200 or 202) return;
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { last = e.Message; }
            await Delay(250, ct);
        }
        if (!ct.IsCancellationRequested) Console.WriteLine($"  node {id} did not take the partition within 30 s: {last}");
    }

    private static async Task<bool> ReadyAsync(Options o, int id, CancellationToken ct)
    {
        using var client = new NodeClient(id, o.HttpBasePort + id, timeout: TimeSpan.FromSeconds(1));
        try { return (await client.ReadyAsync(ct)).Ready; }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { return false; }
    }

    /// <summary>Polls every live node's /status for the Raft leader it knows.</summary>
    private static async Task MonitorAsync(Options o, FaultState faults, LeaderTracker leaders, Stopwatch clock, CancellationToken ct)
    {
        var clients = Enumerable.Range(1, o.Nodes).Select(i => new NodeClient(i, o.HttpBasePort + i, timeout: TimeSpan.FromSeconds(1))).ToList();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                foreach (var c in clients.Where(c => faults.Live().Contains(c.NodeId)))
                {
                    try
                    {
                        if ((await c.StatusAsync(ct)).Raft is { } raft) leaders.Observe(clock.ElapsedMilliseconds, raft.Term, raft.LeaderId);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException) { }
                }
                await Delay((long)StatusPollInterval.TotalMilliseconds, ct);
            }
        }
        catch (OperationCanceledException) { }
        finally { clients.ForEach(c => c.Dispose()); }
    }

    /// <summary>A linearizable read of <paramref name="key"/> through the nodes in turn until one answers (at most <see cref="FinalReadTimeout"/>).</summary>
    private static async Task<OpRecord?> FinalReadAsync(Options o, string key, Stopwatch clock, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + FinalReadTimeout;
        for (var attempt = 0; DateTime.UtcNow < deadline; attempt++)
        {
            var node = attempt % o.Nodes + 1;
            using var client = new NodeClient(node, o.HttpBasePort + node, timeout: TimeSpan.FromMilliseconds(o.RequestTimeoutMs));
            var callMs = clock.ElapsedMilliseconds;
            try
            {
                var (code, body) = await client.SendAsync(HttpMethod.Get, $"/kv/{key}", ct: ct);
                var result = NemesisOutcome.FromAnswer(read: true, code, body);
                if (result.Outcome == OpOutcome.Ok) return new OpRecord(0, true, key, null, 0, callMs, clock.ElapsedMilliseconds, result, node, "final read", 1);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { }
            await Delay(200, ct);
        }
        Console.WriteLine($"warning: key {key} could not be read back; the lost-write check leaves it unverified");
        return null;
    }

    /// <summary>Every operation as one JSON line (kept with the data directory), for looking into a run afterwards.</summary>
    private static async Task WriteHistoryAsync(string path, IEnumerable<OpRecord> ops, CancellationToken ct)
    {
        await using var file = new StreamWriter(path);
        foreach (var op in ops.OrderBy(o => o.CallMs))
            await file.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(new
            {
                client = op.ClientId, op = op.Read ? "get" : "put", key = op.Key, value = op.Value, callMs = op.CallMs, returnMs = op.ReturnMs,
                outcome = op.Outcome.ToString(), cause = op.Result.Cause, index = op.Result.Index, read = op.Result.Found ? op.Result.Value : null,
                node = op.Node, nodeState = op.NodeState, attempts = op.Attempts,
            }).AsMemory(), ct);
    }

    private static Task Delay(long ms, CancellationToken ct) => ms > 0 ? Task.Delay(TimeSpan.FromMilliseconds(ms), ct) : Task.CompletedTask;

    private static string Describe(NemesisFaults faults) => faults switch
    {
        NemesisFaults.Kill => "kill -9 and restart",
        NemesisFaults.Partition => "partition and heal",
        _ => "kill -9, restart, partition and heal",
    };
}
