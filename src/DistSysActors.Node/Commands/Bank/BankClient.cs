using System.Diagnostics;
using System.Text;
using System.Text.Json;
using DistSysActors.Node.Client;

namespace DistSysActors.Node.Commands.Bank;

/// <summary>
/// One closed-loop bank client: transfers a random amount between two random accounts through a random node
/// (<c>add</c> ops, the debit with <c>min</c>), each under its own Idempotency-Key, and records every transfer that may
/// have started in the <see cref="BankLedger"/>. A node that refuses the connection started nothing: the client picks
/// another. Latencies of answered requests go to <see cref="Latencies"/>.
/// </summary>
internal sealed class BankClient(int id, BenchBankCommand.Options o, Random random, BankLedger ledger)
{
    public List<double> Latencies { get; } = [];
    public int NotStarted { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        var clients = Enumerable.Range(1, o.Nodes).Select(n => new NodeClient(n, o.HttpBasePort + n, timeout: BankRun.PostTimeout)).ToArray();
        try
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var node = random.Next(1, o.Nodes + 1);
                var from = random.Next(o.Accounts);
                var to = (from + random.Next(1, o.Accounts)) % o.Accounts;
                var transfer = new BankTransfer($"bank-{id}-{n}", node, BankRun.Account(from), BankRun.Account(to), random.Next(1, o.AmountMax + 1));
                if (!await SendAsync(clients[node - 1], transfer))
                {
                    NotStarted++;
                    try { await Task.Delay(50, stop); } catch (OperationCanceledException) { }
                }
            }
        }
        finally { foreach (var c in clients) c.Dispose(); }
    }

    /// <summary>Sends one transfer (never cancelled halfway: the load stops between requests); false if nothing started.</summary>
    private async Task<bool> SendAsync(NodeClient client, BankTransfer t)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var (code, body, _) = await client.SendAsync(HttpMethod.Post, "/txn", Body(t, o.Protocol), t.IdempotencyKey);
            if (!Record(t, code, body)) return false;
            lock (Latencies) Latencies.Add(watch.Elapsed.TotalMilliseconds);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError) { return false; }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { /* no answer: the node may have died mid-request */ }
        ledger.Add(t);
        return true;
    }

    public static StringContent Body(BankTransfer t, string protocol) => new(JsonSerializer.Serialize(new
    {
        protocol,
        ops = new object[]
        {
            new { op = "add", key = t.From, delta = -t.Amount, min = BankRun.Min },
            new { op = "add", key = t.To, delta = t.Amount },
        },
    }), Encoding.UTF8, "application/json");

    /// <summary>
    /// Reads a POST /txn answer into <paramref name="t"/>; false when it shows nothing started (the module not running
    /// yet on a restarting node). A 503 without an id leaves the transfer unanswered, to be asked again under its key.
    /// </summary>
    public static bool Record(BankTransfer t, int code, string body)
    {
        JsonElement root;
        try { root = JsonDocument.Parse(body).RootElement.Clone(); }
        catch (JsonException) { return code != 503; }
        if (root.ValueKind != JsonValueKind.Object) return true;
        if (root.TryGetProperty("outcome", out var outcome) && outcome.GetString() == "not-applied") return false;
        if (!root.TryGetProperty("id", out var txnId)) return true;
        t.Id = txnId.GetString();
        t.Answer = code switch { 200 => "committed", 409 => "aborted", _ => "unknown" };
        t.Reason = root.TryGetProperty("reason", out var reason) ? reason.GetString() : null;
        return true;
    }
}
