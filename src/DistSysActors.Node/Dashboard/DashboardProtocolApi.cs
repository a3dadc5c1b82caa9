using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Dashboard;

/// <summary>
/// The page's parts for the protocols beyond Raft (docs/dashboard.md): the last merged log records (<c>GET
/// /dashboard/logs</c>, from the first node that answers <c>GET /logs</c>), a transaction (<c>POST /dashboard/txn</c>,
/// passed to a node's <c>POST /txn</c>, which coordinates it), a committed transactional key (<c>GET
/// /dashboard/txn/kv/{key}</c>) and the AP store (<c>PUT</c> / <c>GET /dashboard/ap/{key}</c> on a chosen node's
/// replica). Served the same by every node and by the `distsys local` launcher.
/// </summary>
public static partial class DashboardProtocolApi
{
    /// <summary>The most records the page asks for at once.</summary>
    public const int LogLimitMax = 200;

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TraceId();

    public static void Map(WebApplication app, DashboardTopology topology, DashboardControls controls)
    {
        var http = topology.NewClient(TimeSpan.FromMilliseconds(DashboardControls.ControlTimeoutMs));
        app.Lifetime.ApplicationStopped.Register(http.Dispose);
        app.MapGet("/dashboard/logs", (string? limit, string? trace, CancellationToken ct) => LogsAsync(http, topology, limit, trace, ct));

        app.MapPost("/dashboard/txn", async (HttpRequest request, string? node, CancellationToken ct) =>
        {
            if (Node(topology, node) is var (id, error) && error is not null) return error;
            var body = await new StreamReader(request.Body).ReadToEndAsync(ct);
            return await controls.ForwardAsync(HttpMethod.Post, "/txn", body, Describe(body), id, ct);
        });
        app.MapGet("/dashboard/txn/kv/{key}", (string key, CancellationToken ct) =>
            controls.ForwardAsync(HttpMethod.Get, $"/txn/kv/{Uri.EscapeDataString(key)}", null, $"read {key} (transactions)", null, ct));

        app.MapPut("/dashboard/ap/{key}", async (string key, HttpRequest request, string? node, CancellationToken ct) =>
        {
            if (Node(topology, node) is var (id, error) && error is not null) return error;
            var value = await new StreamReader(request.Body).ReadToEndAsync(ct);
            return await controls.ForwardAsync(HttpMethod.Put, $"/ap/{Uri.EscapeDataString(key)}", value, $"AP write {key}={value}", id, ct);
        });
        app.MapGet("/dashboard/ap/{key}", (string key, string? node, CancellationToken ct) =>
            Node(topology, node) is var (id, error) && error is not null
                ? Task.FromResult(error)
                : controls.ForwardAsync(HttpMethod.Get, $"/ap/{Uri.EscapeDataString(key)}", null, $"AP read {key}", id, ct));
    }

    /// <summary>The node a control prefers (<c>?node=I</c>), or a 400 naming what is wrong; absent: the first that answers.</summary>
    private static (int? Id, IResult? Error) Node(DashboardTopology topology, string? node)
    {
        if (string.IsNullOrEmpty(node)) return (null, null);
        return int.TryParse(node, out var id) && id >= 1 && id <= topology.Nodes
            ? (id, null)
            : (null, DashboardControls.Answer(false, $"bad node '{node}': a node id from 1 to {topology.Nodes}", 400));
    }

    /// <summary>"2pc transfer 10 dave→alice" for the usual shape of the page's transfer; else the protocol and the op count.</summary>
    public static string Describe(string body)
    {
        try
        {
            var o = JsonNode.Parse(body) as JsonObject;
            var protocol = o?["protocol"]?.GetValue<string>() ?? "?";
            if (o?["ops"] is not JsonArray ops) return $"{protocol} transaction";
            if (ops.Count == 2 && ops.All(op => op?["op"]?.GetValue<string>() == "add") && ops[0]?["delta"]?.GetValue<long>() is < 0 and var d)
                return $"{protocol} transfer {-d} {ops[0]?["key"]}→{ops[1]?["key"]}";
            return $"{protocol} transaction of {ops.Count} op{(ops.Count == 1 ? "" : "s")}";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException) { return "transaction"; }
    }

    private static async Task<IResult> LogsAsync(HttpClient http, DashboardTopology topology, string? limitText, string? trace, CancellationToken ct)
    {
        var limit = 20;
        if (limitText is { Length: > 0 } && (!int.TryParse(limitText, out limit) || limit < 1 || limit > LogLimitMax))
            return DashboardControls.Answer(false, $"limit must be an integer from 1 to {LogLimitMax}, was '{limitText}'", 400);
        if (trace is { Length: > 0 } && !TraceId().IsMatch(trace))
            return DashboardControls.Answer(false, $"trace must be 32 lowercase hex digits, was '{trace}'", 400);
        var query = $"/logs?limit={limit}" + (trace is { Length: > 0 } ? $"&trace={trace}" : "");
        var refused = new List<string>();
        for (var id = 1; id <= topology.Nodes; id++)
        {
            try
            {
                using var response = await http.GetAsync($"{topology.NodeUrl(id)}{query}", ct);
                var text = await response.Content.ReadAsStringAsync(ct);
                if (!response.IsSuccessStatusCode) { refused.Add($"node {id}: {(int)response.StatusCode} {text}"); continue; }
                var missing = response.Headers.TryGetValues("X-Logs-Missing-Nodes", out var m) ? string.Join(",", m) : null;
                return DashboardControls.Answer(true, $"{limit} latest records via node {id}" + (missing is null ? "" : $"; nodes {missing} did not answer"), extra: new JsonObject
                {
                    ["node"] = id,
                    ["missingNodes"] = missing,
                    ["records"] = JsonNode.Parse(text),
                });
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !ct.IsCancellationRequested)
            {
                refused.Add($"node {id}: {e.GetBaseException().Message}");
            }
        }
        return DashboardControls.Answer(false, $"logs: no node answered ({string.Join("; ", refused)})", 503);
    }
}
