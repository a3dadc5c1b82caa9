using Akka.Actor;
using System.Collections.Immutable;
using System.Net.Http.Json;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Http;

/// <summary>
/// W3C trace context on every request (a valid <c>traceparent</c> is joined, otherwise a new trace starts; every answer
/// carries the server's <c>traceparent</c>) and <c>GET /logs</c>: the records of the whole cluster, merged in causal
/// order (README "Distributed logging"). Each node keeps its own store; a query asks every node (or only the one
/// named by <c>node</c>) and merges, listing nodes that did not answer in <c>X-Logs-Missing-Nodes</c>.
/// </summary>
public static class LogsHttpApi
{
    public const string MissingNodesHeader = "X-Logs-Missing-Nodes";
    private const string TraceItem = "distsys.trace";

    /// <summary>The trace the request runs under (set by <see cref="UseTraceContext"/>).</summary>
    public static TraceContext? TraceOf(HttpContext http) => http.Items.TryGetValue(TraceItem, out var t) ? t as TraceContext : null;

    public static void UseTraceContext(WebApplication app, NodeHost host)
    {
        // Seeded per node and start: ids differ between nodes and runs, and a run can be replayed from its seed.
        var random = new DeterministicRandom(host.Node.Id * 1_000_003L ^ DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        app.Use(async (http, next) =>
        {
            TraceContext trace;
            lock (random)
            {
                trace = TraceContext.TryParse(http.Request.Headers[TraceContext.HeaderName]) is { } incoming
                    ? incoming.NewSpan(random)
                    : TraceContext.NewTrace(random);
            }
            http.Items[TraceItem] = trace;
            http.Response.Headers[TraceContext.HeaderName] = trace.TraceParent;
            var log = host.Runtime is { } runtime ? NodeLog.Of(runtime.System) : null;
            var path = http.Request.Path.Value ?? "/";
            // Reading the logs is not itself logged, or every follow poll would add records; nor is the dashboard's polling
            // (its controls reach the node's own API, which is logged).
            var quiet = path.StartsWith("/logs", StringComparison.Ordinal) || path.StartsWith("/status", StringComparison.Ordinal)
                || path.StartsWith("/health", StringComparison.Ordinal) || path.StartsWith("/dashboard/", StringComparison.Ordinal);
            if (!quiet) log?.Write(Severity.Info, $"http {http.Request.Method} {path}", trace,
                NodeLog.Attributes((LogAttributes.Event, "http"), ("http.method", http.Request.Method), ("http.path", path)));
            await next(http);
            if (!quiet) log?.Write(http.Response.StatusCode >= 500 ? Severity.Warn : Severity.Info, $"http {http.Request.Method} {path} answered {http.Response.StatusCode}", trace,
                NodeLog.Attributes((LogAttributes.Event, "http"), ("http.method", http.Request.Method), ("http.path", path),
                    ("http.status", http.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        });
    }

    public static void Map(WebApplication app, NodeHost host)
    {
        // Each ask has its own deadline (distsys.logging query timeout); the client presents this node's kv token to peers.
        var peers = host.PeerClient;
        app.MapGet("/logs", async (HttpContext http) =>
        {
            var q = http.Request.Query;
            var (query, error) = LogQuery.Parse(q["trace"], q["node"], q["severity"], q["since"], q["limit"]);
            var order = LogOrder.TryParse(q["order"].FirstOrDefault() ?? "hlc");
            if (order is null) error = (error is null ? "" : error + "; ") + $"order must be hlc, lamport or wall, was '{q["order"]}'";
            var scope = q["scope"].FirstOrDefault() ?? "cluster";
            if (scope is not ("cluster" or "local" or "aggregate")) error = (error is null ? "" : error + "; ") + $"scope must be cluster, local or aggregate, was '{scope}'";
            if (error is not null) return Results.Json(new ErrorDto(error), statusCode: 400);
            if (host.Runtime?.Module(LogShipperActor.Name) is not { } shipper)
                return Results.Json(new ErrorDto("unavailable", "this node records no logs (distsys.logging.enabled = off, or restarting)"), statusCode: 503);
            var settings = NodeLog.Of(host.Runtime.System)!.Settings;
            var timeout = TimeSpan.FromMilliseconds(settings.QueryTimeoutMs);
            if (scope == "local")
                return Results.Json((await LocalAsync(shipper, query!, timeout)).Select(LogRecordDto.From));
            if (scope == "aggregate")
            {
                if (settings.Aggregator != host.Node.Id)
                    return Results.Json(new ErrorDto($"scope=aggregate: node {host.Node.Id} is not the aggregator (distsys.logging.aggregator = {settings.Aggregator})"), statusCode: 400);
                return Results.Json((await LocalAsync(shipper, query!, timeout, aggregate: true)).Select(LogRecordDto.From));
            }
            if (settings.Aggregated && await FromAggregatorAsync(peers, host, shipper, query!, http.Request, timeout) is { } aggregated)
                return Results.Json(query!.Apply(aggregated, order!.Value).Select(LogRecordDto.From));

            var self = host.Node.Id;
            var nodes = query!.Node is { } only ? [only.Value] : Enumerable.Range(1, host.Node.Nodes).ToArray();
            var asks = nodes.Select(async n =>
            {
                try { return (Node: n, Records: n == self ? await LocalAsync(shipper, query, timeout) : await RemoteAsync(peers, host, n, http.Request, "local", timeout)); }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException or Akka.Actor.AskTimeoutException or System.Text.Json.JsonException)
                {
                    return (Node: n, Records: (List<LogRecord>?)null);
                }
            }).ToList();
            var answers = await Task.WhenAll(asks);
            var missing = answers.Where(a => a.Records is null).Select(a => a.Node).ToArray();
            if (missing.Length > 0) http.Response.Headers[MissingNodesHeader] = string.Join(",", missing);
            var merged = query.Apply(answers.Where(a => a.Records is not null).SelectMany(a => a.Records!), order!.Value);
            return Results.Json(merged.Select(LogRecordDto.From));
        });
    }

    private static async Task<List<LogRecord>> LocalAsync(Akka.Actor.IActorRef shipper, LogQuery query, TimeSpan timeout, bool aggregate = false) =>
        (await shipper.Ask<LogShipperActor.Records>(new LogShipperActor.Query(query, aggregate), timeout)).Items.ToList();

    /// <summary>
    /// With an aggregator: its store of every node's records, with this node's own (the ones not shipped yet show at once);
    /// null when the aggregator does not answer, and the query then asks every node.
    /// </summary>
    private static async Task<List<LogRecord>?> FromAggregatorAsync(HttpClient peers, NodeHost host, Akka.Actor.IActorRef shipper, LogQuery query, HttpRequest request, TimeSpan timeout)
    {
        var aggregator = NodeLog.Of(host.Runtime!.System)!.Settings.Aggregator;
        try
        {
            var all = aggregator == host.Node.Id ? await LocalAsync(shipper, query, timeout, aggregate: true) : await RemoteAsync(peers, host, aggregator, request, "aggregate", timeout);
            return all is null ? null : [.. all, .. await LocalAsync(shipper, query, timeout)];
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException or Akka.Actor.AskTimeoutException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static async Task<List<LogRecord>?> RemoteAsync(HttpClient peers, NodeHost host, int node, HttpRequest request, string scope, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var forwarded = request.Query.Where(p => p.Key != "scope").Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value.ToString())}")
            .Append($"scope={scope}");
        var url = $"{PeerHttp.RequireUrlOf(host, node)}/logs?{string.Join('&', forwarded)}";
        var records = await peers.GetFromJsonAsync<List<LogRecordDto>>(url, cts.Token);
        return records?.Select(r => r.ToRecord()).ToList();
    }
}

/// <summary>One record of <c>GET /logs</c>: the OpenTelemetry log data model's fields, the node and its causal stamps.</summary>
public sealed record LogRecordDto(
    string Id, int Node, HlcDto Hlc, long Lamport, string? TraceId, string? SpanId, string Severity, int SeverityNumber, string Body,
    IReadOnlyDictionary<string, string> Attributes, long Timestamp, long ObservedTimestamp,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyDictionary<string, long>? Vector = null)
{
    public static LogRecordDto From(LogRecord r) => new(r.Id, r.Node.Value, new HlcDto(r.Hlc.WallMs, r.Hlc.Logical), r.Lamport, r.TraceId, r.SpanId,
        SeverityText.Of(r.Severity), (int)r.Severity, r.Body, r.AttributesOrEmpty, r.TimestampMs, r.ObservedTimestampMs,
        r.Vector?.Entries.ToDictionary(e => e.Node.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), e => e.Counter));

    public LogRecord ToRecord() => new(Id, new NodeId(Node), Timestamp, ObservedTimestamp, new HlcTimestamp(Hlc.WallMs, Hlc.Logical), Lamport,
        (Severity)SeverityNumber, Body, TraceId, SpanId, Attributes.ToImmutableSortedDictionary(StringComparer.Ordinal),
        Vector is null ? null : VectorClock.From(Vector.Select(e => new VectorClockEntry(new NodeId(int.Parse(e.Key, System.Globalization.CultureInfo.InvariantCulture)), e.Value))));
}

/// <summary><c>logging</c> in <c>/status</c>: the node's log pipeline counters.</summary>
public sealed record LoggingStatusDto(long Buffered, long Shipped, long Dropped, long Stored);

public sealed class LoggingApi : NodeModuleApi
{
    public override string ModuleName => LogShipperActor.Name;
    public override string StatusField => "logging";

    public override async Task<object?> StatusAsync(ModuleAsks asks) =>
        await asks.AskAsync<LogShipperActor.Status>(ModuleName, LogShipperActor.GetStatus.Instance) is { } s
            ? new LoggingStatusDto(s.Buffered, s.Shipped, s.Dropped, s.Stored)
            : null;
}
