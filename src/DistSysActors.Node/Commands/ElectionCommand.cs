using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DistSysActors.Node.Client;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys election status|campaign|renew|resign|hold`, `distsys fenced put|get` and `distsys bully status`: the lease-based
/// election with fencing tokens, the fenced registers, and the Bully election, over HTTP.
/// </summary>
internal static partial class ElectionCommand
{
    public static Command Create()
    {
        var (node, httpBasePort) = Connection();
        var command = new Command("election", "Lease-based election with fencing tokens (/election), and every node's view of Bully's, the leases' and Akka.Cluster's leader") { node, httpBasePort };

        var statusName = new Argument<string?>("name") { Description = "An election's name: print its lease (default: every node's view of all three leaders)", Arity = ArgumentArity.ZeroOrOne };
        var status = new Command("status", "Print each node's Bully leader, the held leases and Akka.Cluster's leader (or one election's lease)") { statusName };
        status.SetAction(async (p, ct) =>
        {
            if (p.GetValue(statusName) is { } name)
            {
                var (client, _) = await CommonOptions.ConnectAsync(p.GetValue(node), p.GetValue(httpBasePort), ct);
                using (client) return PrintLease(await client.SendAsync(HttpMethod.Get, LeasePath(name), null, ct));
            }
            return await PrintViewsAsync(p.GetValue(node), p.GetValue(httpBasePort), bullyOnly: false, ct);
        });

        var name = new Argument<string>("name") { Description = "The election's name" };
        var candidate = new Option<string>("--candidate") { Description = "The candidate's id (a string, or an integer)", Required = true };
        var ttl = new Option<long>("--ttl-ms") { Description = "The lease's TTL, judged by the replicated leader clock", DefaultValueFactory = _ => 5_000 };
        var token = new Option<long>("--token") { Description = "The fencing token the campaign returned", Required = true };

        var campaign = new Command("campaign", "Campaign for the lease: prints the leader, its fencing token and the TTL left (exit 3 when another holds it)") { name, candidate, ttl };
        campaign.SetAction(async (p, ct) => await PostAsync(p.GetValue(node), p.GetValue(httpBasePort), p.GetValue(name)!, "campaign",
            new JsonObject { ["candidate"] = CandidateJson(p.GetValue(candidate)!), ["ttlMs"] = p.GetValue(ttl) }, ct));

        var renew = new Command("renew", "Renew a held lease by its TTL (exit 3 when the candidate no longer holds it)") { name, candidate, token };
        renew.SetAction(async (p, ct) => await PostAsync(p.GetValue(node), p.GetValue(httpBasePort), p.GetValue(name)!, "renew",
            new JsonObject { ["candidate"] = CandidateJson(p.GetValue(candidate)!), ["token"] = p.GetValue(token) }, ct));

        var resign = new Command("resign", "Give a held lease up: the next campaign wins at once (exit 3 when the candidate does not hold it)") { name, candidate, token };
        resign.SetAction(async (p, ct) => await PostAsync(p.GetValue(node), p.GetValue(httpBasePort), p.GetValue(name)!, "resign",
            new JsonObject { ["candidate"] = CandidateJson(p.GetValue(candidate)!), ["token"] = p.GetValue(token) }, ct));

        command.Subcommands.Add(status);
        command.Subcommands.Add(campaign);
        command.Subcommands.Add(renew);
        command.Subcommands.Add(resign);
        command.Subcommands.Add(CreateHold(node, httpBasePort));
        return command;
    }

    /// <summary>`distsys bully status`: every node's Bully state and the coordinator it follows.</summary>
    public static Command CreateBully()
    {
        var (node, httpBasePort) = Connection();
        var command = new Command("bully", "The Bully election (Garcia-Molina) running on every node") { node, httpBasePort };
        var status = new Command("status", "Print each node's Bully state and coordinator (two coordinators at once under a partition)");
        status.SetAction(async (p, ct) => await PrintViewsAsync(p.GetValue(node), p.GetValue(httpBasePort), bullyOnly: true, ct));
        command.Subcommands.Add(status);
        return command;
    }

    /// <summary>`distsys fenced put|get`: registers that refuse a write whose fencing token is below the highest seen.</summary>
    public static Command CreateFenced()
    {
        var (node, httpBasePort) = Connection();
        var command = new Command("fenced", "Registers guarded by fencing tokens (/fenced)") { node, httpBasePort };
        var key = new Argument<string>("key") { Description = "The register's key" };
        var value = new Argument<string>("value") { Description = "The value (UTF-8 text)" };
        var token = new Option<long>("--token") { Description = "The writer's fencing token (sent as the Fencing-Token header)", Required = true };
        var put = new Command("put", "Write the register with a fencing token (exit 3 when a higher token was seen)") { key, value, token };
        put.SetAction(async (p, ct) =>
        {
            var (client, _) = await CommonOptions.ConnectAsync(p.GetValue(node), p.GetValue(httpBasePort), ct);
            using (client) return Print(await FencedPutAsync(client, p.GetValue(key)!, p.GetValue(token), p.GetValue(value)!, ct));
        });
        var get = new Command("get", "Read the register: its value and highest token") { key };
        get.SetAction(async (p, ct) =>
        {
            var (client, _) = await CommonOptions.ConnectAsync(p.GetValue(node), p.GetValue(httpBasePort), ct);
            using (client)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, FencedPath(p.GetValue(key)!));
                var (code, body, highest) = await SendFencedAsync(client, request, ct);
                if (code != 200) return Print((code, body));
                Console.WriteLine($"{body} (highest token {highest})");
                return 0;
            }
        });
        command.Subcommands.Add(put);
        command.Subcommands.Add(get);
        return command;
    }

    private static (Option<int?> Node, Option<int> HttpBasePort) Connection()
    {
        var node = CommonOptions.EntryNode();
        var httpBasePort = CommonOptions.HttpBasePort();
        node.Recursive = httpBasePort.Recursive = true;
        return (node, httpBasePort);
    }

    /// <summary>An integer candidate is sent as a JSON number, anything else as a string.</summary>
    internal static JsonNode CandidateJson(string candidate) =>
        long.TryParse(candidate, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) ? JsonValue.Create(n) : JsonValue.Create(candidate);

    internal static string LeasePath(string name) => $"/election/{Uri.EscapeDataString(name)}";

    internal static string FencedPath(string key) => $"/fenced/{Uri.EscapeDataString(key)}";

    private static async Task<int> PostAsync(int? node, int httpBasePort, string name, string action, JsonObject body, CancellationToken ct)
    {
        var (client, _) = await CommonOptions.ConnectAsync(node, httpBasePort, ct);
        using (client) return Print(await client.SendAsync(HttpMethod.Post, $"{LeasePath(name)}/{action}", Json(body), ct));
    }

    internal static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    internal static async Task<(int Code, string Body)> FencedPutAsync(NodeClient client, string key, long token, string value, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, FencedPath(key)) { Content = new StringContent(value, Encoding.UTF8, "text/plain") };
        request.Headers.Add("Fencing-Token", token.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (code, body, _) = await SendFencedAsync(client, request, ct);
        return (code, body);
    }

    private static async Task<(int Code, string Body, string? Highest)> SendFencedAsync(NodeClient client, HttpRequestMessage request, CancellationToken ct)
    {
        using var http = new HttpClient(new NodeClient.BearerTokens()) { BaseAddress = client.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.SendAsync(request, ct);
        var highest = response.Headers.TryGetValues("Fencing-Token", out var v) ? v.FirstOrDefault() : null;
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct), highest);
    }

    /// <summary>Prints an answer's body; exit 0 for 200, 3 for 409 (refused: another holder, or a higher token), 1 otherwise.</summary>
    private static int Print((int Code, string Body) answer)
    {
        if (answer.Code is 200 or 409) Console.WriteLine(answer.Body);
        else Console.Error.WriteLine($"HTTP {answer.Code}: {answer.Body}");
        return answer.Code switch { 200 => 0, 409 => 3, _ => 1 };
    }

    private static int PrintLease((int Code, string Body) answer)
    {
        if (answer.Code == 404)
        {
            Console.WriteLine("no holder");
            return 2;
        }
        return Print(answer);
    }

    /// <summary>Each node's /status election view, one line per node (nodes that do not answer are said to be down).</summary>
    private static async Task<int> PrintViewsAsync(int? node, int httpBasePort, bool bullyOnly, CancellationToken ct)
    {
        var (entry, status) = await CommonOptions.ConnectAsync(node, httpBasePort, ct);
        entry.Dispose();
        foreach (var id in NodeEndpoints.Current.Ids(status))
        {
            using var client = NodeEndpoints.Current.Create(id, httpBasePort, TimeSpan.FromSeconds(3));
            try
            {
                var (code, body) = await client.SendAsync(HttpMethod.Get, "/status", null, ct);
                if (code != 200 || JsonNode.Parse(body)?["election"] is not JsonObject e)
                {
                    Console.WriteLine($"node {id}: no election status (HTTP {code})");
                    continue;
                }
                var bully = e["bully"] is JsonObject b ? $"bully {b["state"]} leader {b["leaderId"]?.ToJsonString() ?? "-"}" : "bully off";
                if (bullyOnly)
                {
                    Console.WriteLine($"node {id}: {bully}");
                    continue;
                }
                var akka = e["akka"] as JsonObject;
                var leases = e["leases"] is JsonArray l ? string.Join(", ", l.Select(x => $"{x!["name"]}={x["leader"]?.ToJsonString()}#{x["token"]} ({x["expiresInMs"]} ms)")) : "-";
                Console.WriteLine($"node {id}: {bully}; akka leader {akka?["leaderId"]?.ToJsonString() ?? "-"} singleton on {akka?["singletonNodeId"]?.ToJsonString() ?? "?"} (hosted here: {akka?["singletonInstances"]?.ToJsonString() ?? "-"}{(akka?["localSingletonIncarnation"] is { } inc ? $" {inc}" : "")}); leases {(leases.Length == 0 ? "none" : leases)}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
            {
                Console.WriteLine($"node {id}: down ({ex.GetType().Name})");
            }
        }
        return 0;
    }
}
