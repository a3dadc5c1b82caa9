using System.Diagnostics;
using System.Text;
using System.Text.Json;
using DistSysActors.Node.Client;
using DistSysActors.Node.Local;
using static DistSysActors.Node.Commands.BenchBankCommand;

namespace DistSysActors.Node.Commands.Bank;

/// <summary>
/// One run of `distsys bench bank`: a fresh local cluster, the accounts seeded, the clients' transfers while a seeded
/// schedule kills (-9) and restarts random nodes, then the load stops, every unanswered transfer is asked again under
/// its Idempotency-Key, the cluster is left to settle (nothing in doubt or running anywhere), every transfer's outcome
/// is read from its coordinator and every balance from its owner, and <see cref="BankLedger.Check"/> decides.
/// </summary>
internal static class BankRun
{
    public const long Min = 0;
    public static readonly TimeSpan PostTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    public static string Account(int i) => $"acct-{i}";

    public static async Task<int> RunAsync(Options o, CancellationToken ct)
    {
        var seed = o.Seed ?? Random.Shared.NextInt64(1, int.MaxValue);
        var dataDir = Path.GetFullPath(o.DataDir ?? Path.Combine(Path.GetTempPath(), $"distsys-bench-bank-{Environment.ProcessId}"));
        if (Directory.Exists(dataDir) && Directory.EnumerateFileSystemEntries(dataDir).Any())
            throw new CommandException($"--data-dir {dataDir} is not empty: the bank needs a fresh cluster (remove it or name another)");
        NodeCommand.BuildConfig(1, o.Nodes, o.BasePort, o.HttpBasePort, dataDir, o.Sets); // a bad --set fails once, here
        Console.WriteLine($"bench bank: {o.Protocol}, {o.Nodes} nodes, {o.Accounts} accounts of {o.StartBalance}, transfers of 1..{o.AmountMax} (min {Min}), "
                          + $"{o.Clients} clients, {o.Seconds} s, " + (o.KillEverySeconds > 0 ? $"kill -9 and restart of a random node every {o.KillEverySeconds} s" : "no kills")
                          + (o.Sets.Count > 0 ? $", --set {string.Join(" --set ", o.Sets)}" : ""));
        Console.WriteLine($"seed {seed} (replay the schedule with --seed {seed}); data directory {dataDir} (node I logs to node-I/node.log)");

        int exit;
        await using (var cluster = new LocalCluster(o.Nodes, o.BasePort, o.HttpBasePort, dataDir, o.Sets.SelectMany(s => new[] { "--set", s }).ToList()) { Quiet = true })
        {
            cluster.Start();
            if (!await cluster.WaitReadyAsync(ct)) throw new CommandException($"the cluster did not become ready; node logs under {dataDir}");
            await SeedAsync(o, ct);
            Console.WriteLine($"{o.Nodes} nodes ready, {o.Accounts} accounts seeded");
            exit = await MeasureAsync(cluster, o, seed, ct);
        }
        if (exit == 0 && !o.KeepData)
        {
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
        else Console.WriteLine($"data and node logs kept in {dataDir}");
        return exit;
    }

    private static async Task<int> MeasureAsync(LocalCluster cluster, Options o, long seed, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var ledger = new BankLedger();
        var doubt = new DoubtMonitor(o);
        using var stopMonitor = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var monitor = Task.Run(() => doubt.RunAsync(stopMonitor.Token), CancellationToken.None);
        using var stopClients = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var clients = Enumerable.Range(1, o.Clients).Select(i => new BankClient(i, o, new Random(unchecked((int)seed * 31 + i)), ledger)).ToList();
        var running = clients.Select(c => Task.Run(() => c.RunAsync(stopClients.Token), CancellationToken.None)).ToList();

        var schedule = new Random(unchecked((int)seed));
        var kills = 0;
        // The next kill comes a period after the previous node is back (a slow restart does not pile kills up).
        for (var at = o.KillEverySeconds * 1000L; o.KillEverySeconds > 0 && at < o.Seconds * 1000L; at = clock.ElapsedMilliseconds + o.KillEverySeconds * 1000L)
        {
            await Delay(at - clock.ElapsedMilliseconds, ct);
            var node = schedule.Next(1, o.Nodes + 1);
            cluster.Kill(node);
            kills++;
            Console.WriteLine($"[{clock.ElapsedMilliseconds / 1000.0,6:0.0} s] kill -9 node {node}");
            await Delay(1000, ct);
            cluster.StartNode(node);
            var ready = await cluster.WaitReadyAsync(ct);
            Console.WriteLine($"[{clock.ElapsedMilliseconds / 1000.0,6:0.0} s] node {node} restarted" + (ready ? ", ready" : ", NOT ready"));
        }
        await Delay(o.Seconds * 1000L - clock.ElapsedMilliseconds, ct);
        var loadMs = clock.ElapsedMilliseconds;
        stopClients.Cancel();
        Console.WriteLine($"[{loadMs / 1000.0,6:0.0} s] clients stop; waiting for the answers still due");
        await Task.WhenAll(running);
        if (!await cluster.WaitReadyAsync(ct)) Console.WriteLine("warning: not every node is ready");

        var transfers = ledger.Transfers;
        var unanswered = transfers.Where(t => t.Id is null).ToList();
        foreach (var t in unanswered) await AskAgainAsync(o, t, ct);
        stopMonitor.Cancel();
        await monitor;
        var settle = Stopwatch.StartNew();
        var settled = await doubt.WaitSettledAsync(TimeSpan.FromSeconds(o.SettleSeconds), ct);
        Console.WriteLine(settled ? $"[{clock.ElapsedMilliseconds / 1000.0,6:0.0} s] settled: nothing in doubt or running on any node after {settle.Elapsed.TotalSeconds:0.0} s"
            : $"[{clock.ElapsedMilliseconds / 1000.0,6:0.0} s] NOT settled within {o.SettleSeconds} s: {doubt.Last}");

        foreach (var t in transfers.Where(t => t.Id is not null)) (t.Final, t.NoRecord) = await OutcomeAsync(o, t.Id!, ct);
        var balances = new Dictionary<string, long?>(StringComparer.Ordinal);
        for (var i = 0; i < o.Accounts; i++) balances[Account(i)] = await BalanceAsync(o, Account(i), ct);
        var start = Enumerable.Range(0, o.Accounts).ToDictionary(Account, _ => (long)o.StartBalance, StringComparer.Ordinal);
        var problems = BankLedger.Check(start, Min, transfers, balances);

        var latencies = clients.SelectMany(c => c.Latencies).Order().ToList();
        var committed = transfers.Count(t => t.Final == "committed");
        Console.WriteLine($"transfers started {transfers.Count} ({clients.Sum(c => c.NotStarted)} refused at the door by a node down or starting), kills {kills}");
        Console.WriteLine($"  committed {committed} ({committed / (loadMs / 1000.0):0.0}/s), aborted {transfers.Count(t => t.Final == "aborted")}"
                          + $" (of which no record at the coordinator, presumed abort: {transfers.Count(t => t.NoRecord)})");
        Console.WriteLine($"  answered unknown (503) {transfers.Count(t => t.Answer == "unknown")}, then committed {transfers.Count(t => t.Answer == "unknown" && t.Final == "committed")};"
                          + $" unanswered (node killed mid-request) {unanswered.Count}, asked again under their key");
        foreach (var g in transfers.Where(t => t.Final == "aborted").GroupBy(t => t.Reason is null ? "(no reason heard: answered unknown or not at all)" : BankLedger.ReasonKind(t.Reason)).OrderByDescending(g => g.Count()))
            Console.WriteLine($"  aborted {g.Count(),6}: {g.Key}");
        if (latencies.Count > 0)
            Console.WriteLine($"latency of answered transfers: p50 {BenchCommand.Percentile(latencies, 0.5):0} ms, p99 {BenchCommand.Percentile(latencies, 0.99):0} ms, max {latencies[^1]:0} ms");
        Console.WriteLine($"in doubt: {doubt.BlockedTxnSeconds:0.0} transaction-seconds summed over the nodes' in-doubt lists (sampled every {DoubtMonitor.SampleMs} ms), oldest seen {doubt.MaxAgeMs} ms");
        if (problems.Count == 0) Console.WriteLine($"check HOLDS: money conserved ({o.Accounts * (long)o.StartBalance}), no account below {Min}, every balance = start + committed transfers");
        else
        {
            Console.WriteLine($"check FAILED ({problems.Count} problems):");
            foreach (var p in problems.Take(30)) Console.WriteLine($"  {p}");
        }
        return problems.Count == 0 && settled ? 0 : 1;
    }

    private static async Task SeedAsync(Options o, CancellationToken ct)
    {
        using var client = new NodeClient(1, o.HttpBasePort + 1, timeout: PostTimeout);
        for (var first = 0; first < o.Accounts; first += 10)
        {
            var ops = Enumerable.Range(first, Math.Min(10, o.Accounts - first)).Select(i => new { op = "put", key = Account(i), value = o.StartBalance.ToString() });
            var body = JsonSerializer.Serialize(new { protocol = "2pc", ops });
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                var (code, answer, _) = await client.SendAsync(HttpMethod.Post, "/txn", new StringContent(body, Encoding.UTF8, "application/json"), $"bank-seed-{first}", ct);
                if (code == 200) break;
                if (DateTime.UtcNow > deadline) throw new CommandException($"seeding the accounts failed: HTTP {code} {answer}");
                await Task.Delay(500, ct);
            }
        }
    }

    /// <summary>Sends an unanswered transfer again to its node under its key, until an answer names its transaction (60 s at most).</summary>
    private static async Task AskAgainAsync(Options o, BankTransfer t, CancellationToken ct)
    {
        using var client = new NodeClient(t.Node, o.HttpBasePort + t.Node, timeout: PostTimeout);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (t.Id is null && DateTime.UtcNow < deadline)
        {
            try
            {
                var (code, body, _) = await client.SendAsync(HttpMethod.Post, "/txn", BankClient.Body(t, o.Protocol), t.IdempotencyKey, ct);
                BankClient.Record(t, code, body);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { }
            if (t.Id is null) await Task.Delay(500, ct);
        }
    }

    /// <summary>The transaction's state from its coordinator (through any node); "aborted" when it has no record of it.</summary>
    private static async Task<(string? State, bool NoRecord)> OutcomeAsync(Options o, string id, CancellationToken ct)
    {
        string? last = null;
        for (var attempt = 0; attempt < 3 * o.Nodes; attempt++)
        {
            var node = attempt % o.Nodes + 1;
            using var client = new NodeClient(node, o.HttpBasePort + node, timeout: ReadTimeout);
            try
            {
                var (code, body) = await client.SendAsync(HttpMethod.Get, $"/txn/{Uri.EscapeDataString(id)}", ct: ct);
                if (code == 404) return ("aborted", true);
                if (code == 200 && (last = JsonDocument.Parse(body).RootElement.GetProperty("state").GetString()) is "committed" or "aborted") return (last, false);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { }
            await Task.Delay(200, ct);
        }
        return (last, false);
    }

    private static async Task<long?> BalanceAsync(Options o, string account, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 3 * o.Nodes; attempt++)
        {
            var node = attempt % o.Nodes + 1;
            using var client = new NodeClient(node, o.HttpBasePort + node, timeout: ReadTimeout);
            try
            {
                var (code, body) = await client.SendAsync(HttpMethod.Get, $"/txn/kv/{account}", ct: ct);
                if (code == 404) return 0;
                if (code == 200 && long.TryParse(body, out var value)) return value;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { }
            await Task.Delay(200, ct);
        }
        return null;
    }

    public static Task Delay(long ms, CancellationToken ct) => ms > 0 ? Task.Delay(TimeSpan.FromMilliseconds(ms), ct) : Task.CompletedTask;
}
