using System.CommandLine;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace DistSysActors.Node.Commands;

/// <summary>`distsys kv get|put|del|cas`: the replicated key-value store over HTTP.</summary>
internal static class KvCliCommand
{
    public static Command Create()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        var sessionFile = new Option<string?>("--session-file")
        {
            Description = "The session token file: the highest log index this CLI's writes and session reads have seen "
                + "(default: $DISTSYS_SESSION_FILE, else ~/.distsys/session-<http-base-port>, or session-<host>-<port> of --endpoint)",
        };
        node.Recursive = httpBasePort.Recursive = sessionFile.Recursive = true;
        var command = new Command("kv", "Read and write the Raft-replicated key-value store") { node, httpBasePort, sessionFile };

        var key = new Argument<string>("key") { Description = "The key" };
        var value = new Argument<string>("value") { Description = "The value (UTF-8 text)" };
        var consistency = new Option<string>("--consistency") { Description = "linearizable (default), lease or stale", DefaultValueFactory = _ => "linearizable" };
        consistency.AcceptOnlyFromAmong("linearizable", "lease", "stale");
        var session = new Option<bool>("--session")
        {
            Description = "Read your own writes and never go back in time, on any node: a read-your-writes read at the session token's index",
        };
        var get = new Command("get", "Read a key") { key, consistency, session };
        get.Validators.Add(r =>
        {
            if (r.GetValue(session) && r.GetResult(consistency) is { Implicit: false }) r.AddError("--session and --consistency cannot be combined");
        });
        get.SetAction((p, ct) =>
        {
            var escaped = Uri.EscapeDataString(p.GetValue(key)!);
            if (!p.GetValue(session)) return RunAsync(p, node, httpBasePort, sessionFile, HttpMethod.Get, $"/kv/{escaped}?consistency={p.GetValue(consistency)}", null, ct);
            var token = SessionToken.Read(SessionToken.PathOf(p.GetValue(sessionFile), p.GetValue(httpBasePort), Client.NodeEndpoints.Current.Endpoint));
            return RunAsync(p, node, httpBasePort, sessionFile, HttpMethod.Get, $"/kv/{escaped}?consistency=read-your-writes&min-index={token}", null, ct);
        });
        var put = new Command("put", "Write a key") { key, value };
        put.SetAction((p, ct) => RunAsync(p, node, httpBasePort, sessionFile, HttpMethod.Put,
            $"/kv/{Uri.EscapeDataString(p.GetValue(key)!)}", p.GetValue(value), ct));
        var del = new Command("del", "Delete a key") { key };
        del.SetAction((p, ct) => RunAsync(p, node, httpBasePort, sessionFile, HttpMethod.Delete, $"/kv/{Uri.EscapeDataString(p.GetValue(key)!)}", null, ct));
        var expected = new Option<string?>("--expected") { Description = "The value the key must hold now; omit it to require the key to be absent" };
        var cas = new Command("cas", "Compare-and-set: write value only if the key holds --expected (or is absent)") { key, value, expected };
        cas.SetAction((p, ct) => RunAsync(p, node, httpBasePort, sessionFile, HttpMethod.Post, $"/kv/{Uri.EscapeDataString(p.GetValue(key)!)}/cas",
            JsonSerializer.Serialize(new { expected = p.GetValue(expected), value = p.GetValue(value) }), ct));
        command.Subcommands.Add(get);
        command.Subcommands.Add(put);
        command.Subcommands.Add(del);
        command.Subcommands.Add(cas);
        return command;
    }

    public const int AttemptsMax = 8;

    /// <summary>
    /// Sends the request to the chosen node (or the first that answers). Writes carry a fresh Idempotency-Key, so they
    /// are retried — on 503, timeouts and unreachable nodes, with exponential backoff and jitter, rotating through
    /// the nodes — and still take effect once. Reads are retried the same way (they change nothing). A write's index and
    /// a read's X-Applied-Index go into the session token file, so a later `kv get --session` sees them.
    /// </summary>
    private static async Task<int> RunAsync(ParseResult parse, Option<int?> node, Option<int> httpBasePort, Option<string?> sessionFile,
        HttpMethod method, string path, string? body, CancellationToken ct)
    {
        var basePort = parse.GetValue(httpBasePort);
        var chosen = parse.GetValue(node);
        Client.NodeClient entry;
        Http.StatusDto status;
        try { (entry, status) = await CommonOptions.ConnectAsync(chosen, basePort, ct); }
        catch (CommandException) when (chosen is not null)
        {
            // The chosen node is down or busy: learn the cluster from another one, and still try the chosen node first.
            (entry, status) = await CommonOptions.ConnectAsync(null, basePort, ct);
        }
        entry.Dispose();
        var first = chosen ?? status.NodeId;
        var order = new[] { first }.Concat(Client.NodeEndpoints.Current.Ids(status).Where(i => i != first)).ToArray();
        var idempotencyKey = method == HttpMethod.Get ? null : Guid.NewGuid().ToString("N");
        (int Code, string Body, bool Replayed, long? AppliedIndex) last = (0, "", false, null);
        // A node's answer says why a request failed (no leader, no quorum); a later socket error from a down node must not hide it.
        (int Code, string Body, bool Replayed, long? AppliedIndex)? answered = null;
        var silent = new SortedSet<int>();
        for (var attempt = 0; attempt < AttemptsMax; attempt++)
        {
            if (attempt > 0)
            {
                // Exponential backoff with jitter: cap/2..cap, cap = min(2 s, 100 ms * 2^attempt).
                var capMs = Math.Min(2_000, 100 << Math.Min(attempt, 5));
                await Task.Delay(Random.Shared.Next(capMs / 2, capMs + 1), ct);
            }
            var id = order[attempt % order.Length];
            using var client = Client.NodeEndpoints.Current.Create(id, basePort);
            try
            {
                var content = body is null ? null : new StringContent(body, Encoding.UTF8, method == HttpMethod.Post ? "application/json" : "text/plain");
                last = await client.ExchangeAsync(method, path, content, idempotencyKey, ct);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                last = (0, $"node {id} did not answer: {e.Message}", false, null);
                silent.Add(id);
                continue;
            }
            answered = last;
            silent.Remove(id);
            if (last.Code != 503) break;
        }
        var down = silent.Count == 0 ? "" : $" (node{(silent.Count > 1 ? "s" : "")} {string.Join(",", silent)} did not answer)";
        if (last.Code == 0 && answered is { } cause) last = cause with { Body = cause.Body + down };
        if (SessionToken.IndexOf(method, last.Code, last.Body, last.AppliedIndex) is { } seen)
            SessionToken.Advance(SessionToken.PathOf(parse.GetValue(sessionFile), basePort, Client.NodeEndpoints.Current.Endpoint), seen);
        switch (last.Code)
        {
            case 200:
                Console.WriteLine(last.Replayed ? $"{last.Body} (replayed)" : last.Body);
                return 0;
            case 404 when method == HttpMethod.Get:
                await Console.Error.WriteLineAsync("(not found)");
                return 2;
            case 409:
                Console.WriteLine(last.Body);
                return 3;
            default:
                await Console.Error.WriteLineAsync(last.Code == 0 ? $"distsys: {last.Body}" : $"distsys: HTTP {last.Code}: {last.Body}");
                return 1;
        }
    }
}
