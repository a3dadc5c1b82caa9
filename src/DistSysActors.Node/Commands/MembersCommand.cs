using System.CommandLine;
using System.Text;
using System.Text.Json;
using DistSysActors.Actors.Configuration;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Commands;

/// <summary>`distsys members list|add|remove` and `distsys raft transfer`: Raft membership and leadership over a node's admin HTTP API.</summary>
internal static class MembersCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        node.Recursive = httpBasePort.Recursive = true;
        var command = new Command("members", "List, add and remove Raft servers (any node accepts; followers pass the change to the leader)") { node, httpBasePort };

        var list = new Command("list", "Show the Raft membership: voters, learners, and the leader's view of each one's replication");
        list.SetAction((p, ct) => RunAsync(p, node, httpBasePort, HttpMethod.Get, "/admin/members", null, m => $"members as seen by the leader (node {m.LeaderId?.ToString() ?? "unknown"}):", ct));
        var addId = NodeIdArgument("The new server's id; start it first with `distsys node --id <id> --join`");
        var add = new Command("add", "Add a server: it catches up as a learner, then becomes a voter; answers once it is a voter") { addId };
        add.SetAction((p, ct) => RunAsync(p, node, httpBasePort, HttpMethod.Post, "/admin/members",
            JsonSerializer.Serialize(new { nodeId = p.GetValue(addId) }), _ => $"node {p.GetValue(addId)} is a voter now:", ct));
        var removeId = NodeIdArgument("The server to remove (a removed leader steps down)");
        var remove = new Command("remove", "Remove a voter or learner; answers once the change is committed") { removeId };
        remove.SetAction((p, ct) => RunAsync(p, node, httpBasePort, HttpMethod.Delete, $"/admin/members/{p.GetValue(removeId)}", null,
            _ => $"node {p.GetValue(removeId)} is no longer a member:", ct));
        command.Subcommands.Add(list);
        command.Subcommands.Add(add);
        command.Subcommands.Add(remove);
        return command;
    }

    public static Command CreateRaft()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        node.Recursive = httpBasePort.Recursive = true;
        var command = new Command("raft", "Raft administration") { node, httpBasePort };
        var to = new Option<int?>("--to") { Description = "The voter to hand leadership to (default: the most up-to-date one)" };
        to.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } v && !NodeSettings.InPortPlan(v)) r.AddError($"--to must be between 1 and {NodeSettings.NodesMax}, was {v}");
        });
        var transfer = new Command("transfer", "Hand Raft leadership to another voter (TimeoutNow), without waiting for an election timeout") { to };
        transfer.SetAction(async (p, ct) =>
        {
            var body = p.GetValue(to) is { } target ? JsonSerializer.Serialize(new { to = target }) : "{}";
            var (code, text) = await SendAsync(p, node, httpBasePort, HttpMethod.Post, "/admin/raft/transfer", body, ct);
            if (code != 200) throw new CommandException(ErrorLine(code, text));
            var done = JsonSerializer.Deserialize<TransferDto>(text, Json)!;
            Console.WriteLine($"node {done.LeaderId} leads now (term {done.Term})");
            return 0;
        });
        command.Subcommands.Add(transfer);
        return command;
    }

    private static Argument<int> NodeIdArgument(string description)
    {
        var id = new Argument<int>("id") { Description = description };
        id.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int>();
            if (!NodeSettings.InPortPlan(v)) r.AddError($"the node id must be between 1 and {NodeSettings.NodesMax}, was {v}");
        });
        return id;
    }

    private static async Task<int> RunAsync(ParseResult parse, Option<int?> node, Option<int> httpBasePort, HttpMethod method, string path, string? body,
        Func<MembersDto, string> heading, CancellationToken ct)
    {
        var (code, text) = await SendAsync(parse, node, httpBasePort, method, path, body, ct);
        if (code != 200) throw new CommandException(ErrorLine(code, text));
        var members = JsonSerializer.Deserialize<MembersDto>(text, Json)!;
        Console.WriteLine(heading(members));
        Console.Write(Render(members));
        return 0;
    }

    public const int AttemptsMax = 5;
    public static readonly TimeSpan AdminTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Sends the request to the chosen node (or the first that answers). Only answers that certainly changed nothing
    /// (503 "not-applied": no leader known during an election) are retried, with backoff; an "unknown" outcome is not.
    /// </summary>
    private static async Task<(int Code, string Body)> SendAsync(ParseResult parse, Option<int?> node, Option<int> httpBasePort, HttpMethod method,
        string path, string? body, CancellationToken ct)
    {
        var basePort = parse.GetValue(httpBasePort);
        var (entry, _) = await CommonOptions.ConnectAsync(parse.GetValue(node), basePort, ct);
        entry.Dispose();
        // The node answers by its own deadline (distsys.http.request-timeout-ms); this one only guards against a hung node.
        using var client = Client.NodeEndpoints.Current.Create(entry.NodeId, basePort, AdminTimeout);
        (int Code, string Body) last = (0, "");
        for (var attempt = 0; attempt < AttemptsMax; attempt++)
        {
            if (attempt > 0) await Task.Delay(200 << attempt, ct);
            try
            {
                last = await client.SendAsync(method, path, body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"), ct);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                throw new CommandException($"node {client.NodeId} did not answer ({e.Message}); the outcome is unknown");
            }
            if (!(last.Code == 503 && last.Body.Contains("\"not-applied\"", StringComparison.Ordinal))) break;
        }
        return last;
    }

    /// <summary>One line from an error answer: its "error" text, and whether the change may still happen.</summary>
    public static string ErrorLine(int code, string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var error = doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() : body;
            var outcome = doc.RootElement.TryGetProperty("outcome", out var o) ? o.GetString() : null;
            return $"HTTP {code}: {error}" + (outcome == "unknown" ? " (outcome unknown: it may still take effect; check `distsys members list`)" : "");
        }
        catch (JsonException) { return $"HTTP {code}: {body}"; }
    }

    public static string Render(MembersDto m)
    {
        var w = new StringWriter();
        w.WriteLine($"{"NODE",-5} {"ROLE",-8} {"MATCH",-8} LAG");
        foreach (var s in m.Servers)
            w.WriteLine($"{s.NodeId,-5} {(s.Voter ? "voter" : "learner"),-8} {(s.Lag < 0 ? "-" : s.MatchIndex.ToString()),-8} {(s.Lag < 0 ? "-" : s.Lag.ToString())}"
                        + (s.NodeId == m.LeaderId ? "   (leader)" : ""));
        w.WriteLine($"commit index {m.CommitIndex}");
        return w.ToString();
    }
}
