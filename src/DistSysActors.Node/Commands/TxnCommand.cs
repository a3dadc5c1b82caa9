using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace DistSysActors.Node.Commands;

/// <summary>`distsys txn transfer|show|in-doubt`: distributed transactions over HTTP (<c>/txn</c>).</summary>
internal static class TxnCommand
{
    public static Command Create()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        node.Recursive = httpBasePort.Recursive = true;
        var command = new Command("txn", "Run and inspect distributed transactions (2PC, 3PC, sagas)") { node, httpBasePort };

        var from = new Option<string>("--from") { Description = "The account debited (its balance may not go below 0)", Required = true };
        var to = new Option<string>("--to") { Description = "The account credited", Required = true };
        var amount = CommonOptions.Int("--amount", 1, 1, int.MaxValue, "How much to move");
        var protocol = new Option<string>("--protocol") { Description = "2pc, 3pc or saga", DefaultValueFactory = _ => "2pc" };
        protocol.AcceptOnlyFromAmong("2pc", "3pc", "saga");
        var key = new Option<string?>("--idempotency-key") { Description = "Sent as Idempotency-Key: a retry with the same key gets the first attempt's answer (same node)" };
        var transfer = new Command("transfer", "Move --amount from one account to another in one transaction; prints its id and outcome") { from, to, amount, protocol, key };
        transfer.SetAction(async (p, ct) =>
        {
            var body = JsonSerializer.Serialize(new
            {
                protocol = p.GetValue(protocol),
                ops = new object[]
                {
                    new { op = "add", key = p.GetValue(from), delta = -(long)p.GetValue(amount), min = 0 },
                    new { op = "add", key = p.GetValue(to), delta = (long)p.GetValue(amount) },
                },
            });
            var (client, _) = await CommonOptions.ConnectAsync(p.GetValue(node), p.GetValue(httpBasePort), ct);
            using (client)
            {
                try
                {
                    var (code, answer, replayed) = await client.SendAsync(HttpMethod.Post, "/txn", new StringContent(body, Encoding.UTF8, "application/json"), p.GetValue(key), ct);
                    Console.WriteLine($"node {client.NodeId}: HTTP {code}{(replayed ? " (replayed)" : "")}: {answer}");
                    return code switch { 200 => 0, 409 => 2, _ => 1 };
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                    // The node took the request and died (or went silent) before answering: the transaction may go on.
                    Console.WriteLine($"node {client.NodeId}: no answer ({e.Message}): the outcome is unknown; "
                                      + "send it again with the same --idempotency-key to the same node to learn it");
                    return 1;
                }
            }
        });

        var id = new Argument<string>("id") { Description = "The transaction id (node-sequence, e.g. 2-17)" };
        var show = new Command("show", "Print a transaction's state and each participant's, from its coordinator") { id };
        show.SetAction(async (p, ct) =>
        {
            var (client, _) = await CommonOptions.ConnectAsync(p.GetValue(node), p.GetValue(httpBasePort), ct);
            using (client)
            {
                var (code, answer) = await client.SendAsync(HttpMethod.Get, $"/txn/{Uri.EscapeDataString(p.GetValue(id)!)}", null, ct);
                Console.WriteLine(code == 200 ? answer : $"HTTP {code}: {answer}");
                return code == 200 ? 0 : 1;
            }
        });

        var inDoubt = new Command("in-doubt", "List every node's in-doubt transactions (voted YES, outcome unknown) with their age and the locks they hold");
        inDoubt.SetAction(async (p, ct) =>
        {
            var basePort = p.GetValue(httpBasePort);
            var (entry, status) = await CommonOptions.ConnectAsync(p.GetValue(node), basePort, ct);
            entry.Dispose();
            var total = 0;
            foreach (var i in Client.NodeEndpoints.Current.Ids(status))
            {
                using var client = Client.NodeEndpoints.Current.Create(i, basePort, TimeSpan.FromSeconds(3));
                try
                {
                    var (code, body) = await client.SendAsync(HttpMethod.Get, "/status", null, ct);
                    var txn = code == 200 && JsonDocument.Parse(body).RootElement.TryGetProperty("txn", out var t) && t.ValueKind == JsonValueKind.Object ? t : default;
                    if (txn.ValueKind != JsonValueKind.Object) { Console.WriteLine($"node {i}: no transaction status (HTTP {code})"); continue; }
                    var rows = txn.GetProperty("inDoubt").EnumerateArray().ToList();
                    Console.WriteLine($"node {i}: {rows.Count} in doubt, {txn.GetProperty("locksHeld").GetInt32()} locks held, {txn.GetProperty("running").GetInt32()} coordinated running");
                    foreach (var r in rows)
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {r.GetProperty("id").GetString(),-10} {r.GetProperty("protocol").GetString(),-4} {r.GetProperty("state").GetString(),-12} {r.GetProperty("ageMs").GetInt64(),8} ms  locks: {string.Join(", ", r.GetProperty("locks").EnumerateArray().Select(l => l.GetString()))}"));
                    total += rows.Count;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { Console.WriteLine($"node {i}: down ({e.Message})"); }
            }
            return total == 0 ? 0 : 3;
        });

        command.Subcommands.Add(transfer);
        command.Subcommands.Add(show);
        command.Subcommands.Add(inDoubt);
        return command;
    }
}
