using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using DistSysActors.Actors.Configuration;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Node.Http;

/// <summary>
/// Raft membership and leadership transfer over HTTP. Any node accepts: when its replica answers
/// <see cref="NotLeader"/>, the request goes on to the leader's HTTP endpoint (port plan: http-base-port + leader id)
/// once, and the leader's answer is relayed as it is.
/// </summary>
public static class AdminHttpApi
{
    /// <summary>Marks a request one node passed to the leader; such a request is never passed on again (no forwarding loops).</summary>
    public const string ForwardedHeader = "X-Distsys-Forwarded-By";

    /// <summary>Admin request bodies are a few bytes; anything larger is refused unread.</summary>
    public const int BodyBytesMax = 4096;

    private static readonly HttpClient Forwarder = new() { Timeout = Timeout.InfiniteTimeSpan };

    public static void Map(WebApplication app, NodeHost host)
    {
        // The actor answers "unknown" at its own deadline; the HTTP wait is a little longer so that answer wins,
        // and a forwarded request waits a little longer again for the leader's.
        var askTimeout = TimeSpan.FromMilliseconds(host.Settings.RequestTimeoutMs) + TimeSpan.FromSeconds(1);
        var forwardTimeout = askTimeout + TimeSpan.FromSeconds(1);

        app.MapGet("/admin/members", (Delegate)((HttpContext http) => HandleAsync(http, host, GetMembers.Instance, null, askTimeout, forwardTimeout)));

        app.MapPost("/admin/members", async (HttpContext http) =>
        {
            var (body, error) = await ReadBodyAsync(http.Request);
            if (error is not null) return error;
            var (id, parseError) = ParseNodeField(body!, "nodeId", required: true);
            return parseError ?? await HandleAsync(http, host, new AddMember(id!.Value), body, askTimeout, forwardTimeout);
        });

        app.MapDelete("/admin/members/{id}", (string id, HttpContext http) =>
            int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && NodeSettings.InPortPlan(n)
                ? HandleAsync(http, host, new RemoveMember(n), null, askTimeout, forwardTimeout)
                : Task.FromResult(Bad($"the node id must be an integer between 1 and {NodeSettings.NodesMax}, was '{id}'")));

        app.MapPost("/admin/raft/transfer", async (HttpContext http) =>
        {
            var (body, error) = await ReadBodyAsync(http.Request);
            if (error is not null) return error;
            var (to, parseError) = ParseNodeField(body!, "to", required: false);
            return parseError ?? await HandleAsync(http, host, new TransferLeadership(to), body, askTimeout, forwardTimeout);
        });
    }

    private static async Task<IResult> HandleAsync(HttpContext http, NodeHost host, AdminRequest request, string? body, TimeSpan askTimeout, TimeSpan forwardTimeout)
    {
        if (host.Runtime?.Raft is not { } raft)
            return Results.Json(new { error = "the Raft replica is not running on this node", outcome = "not-applied" }, statusCode: 503);
        var self = host.Node.Id;
        var forwardedBy = http.Request.Headers[ForwardedHeader].ToString();
        object answer;
        try { answer = await raft.Ask<object>(request, askTimeout); }
        catch (AskTimeoutException)
        {
            return request is GetMembers
                ? Results.Json(new ErrorDto("the Raft replica did not answer in time"), statusCode: 503)
                : Results.Json(new { error = "the change was not confirmed in time", outcome = "unknown" }, statusCode: 503);
        }
        switch (answer)
        {
            case Members m when request is GetMembers && m.LeaderId is { } l && l != self && forwardedBy.Length == 0:
                // A follower has no replication progress (match 0, lag -1): the leader's view is the useful one.
                return await ForwardAsync(http, host, l, body, forwardTimeout) is { Code: 200 } leaders
                    ? Results.Content(leaders.Body, "application/json", Encoding.UTF8, 200)
                    : Results.Json(MembersDtoOf(m));
            case Members m:
                return Results.Json(MembersDtoOf(m));
            case TransferDone t:
                return Results.Json(new TransferDto(t.LeaderId, t.Term));
            case NotLeader { LeaderId: { } leader } when leader != self && forwardedBy.Length == 0:
                var relayed = await ForwardAsync(http, host, leader, body, forwardTimeout);
                return relayed.Code == 0
                    ? Results.Json(new { error = relayed.Body, outcome = relayed.Outcome }, statusCode: 503)
                    : Results.Content(relayed.Body, "application/json", Encoding.UTF8, relayed.Code);
            case NotLeader { LeaderId: { } leader } when leader != self:
                return Results.Json(new { error = $"node {forwardedBy} forwarded this request here, but node {leader} leads now; retry", outcome = "not-applied" }, statusCode: 503);
            case NotLeader:
                return Results.Json(new { error = "no Raft leader is known (an election may be under way); retry", outcome = "not-applied" }, statusCode: 503);
            case Rejected r:
                return Results.Json(new ErrorDto(r.Reason), statusCode: 409);
            case Unavailable u:
                return Results.Json(new { error = u.Reason, outcome = u.Unknown ? "unknown" : "not-applied" }, statusCode: 503);
            default:
                return Results.Json(new ErrorDto($"unexpected answer {answer.GetType().Name}"), statusCode: 500);
        }
    }

    private static MembersDto MembersDtoOf(Members m) =>
        new(m.Servers.OrderBy(s => s.NodeId).Select(s => new MemberInfoDto(s.NodeId, s.Voter, s.MatchIndex, s.Lag)).ToList(), m.LeaderId, m.CommitIndex);

    /// <summary>Sends the same request to node <paramref name="leader"/>; Code 0 means it did not answer (Body says why).</summary>
    private static async Task<(int Code, string Body, string Outcome)> ForwardAsync(HttpContext http, NodeHost host, int leader, string? body, TimeSpan timeout)
    {
        var url = new Uri($"http://{host.Node.Hostname}:{host.Node.HttpPortOf(leader)}{http.Request.Path}{http.Request.QueryString}");
        using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), url);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        request.Headers.Add(ForwardedHeader, host.Node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await Forwarder.SendAsync(request, deadline.Token);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(deadline.Token), "");
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return (0, $"the leader, node {leader}, refused the connection at {url.GetLeftPart(UriPartial.Authority)}", "not-applied");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return (0, $"the leader, node {leader}, did not answer at {url.GetLeftPart(UriPartial.Authority)}: {e.Message}", "unknown");
        }
    }

    private static IResult Bad(string message) => Results.Json(new ErrorDto(message), statusCode: 400);

    private static async Task<(string? Body, IResult? Error)> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > BodyBytesMax) return (null, Bad($"the body exceeds {BodyBytesMax} bytes"));
        var buffer = new MemoryStream();
        var chunk = new byte[1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > BodyBytesMax) return (null, Bad($"the body exceeds {BodyBytesMax} bytes"));
        }
        try { return (new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.ToArray()), null); }
        catch (DecoderFallbackException) { return (null, Bad("the body must be UTF-8 JSON")); }
    }

    /// <summary>
    /// A body that is a JSON object whose only field is <paramref name="field"/>, a node id of the port plan; an empty
    /// body, <c>{}</c> and null stand for "none" when the field is optional.
    /// </summary>
    public static (int? NodeId, IResult? Error) ParseNodeField(string body, string field, bool required)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(string.IsNullOrWhiteSpace(body) ? "{}" : body); }
        catch (JsonException e) { return (null, Bad($"malformed JSON: {e.Message}")); }
        if (root is not JsonObject obj) return (null, Bad($"the body must be a JSON object {{\"{field}\": <node id>}}"));
        foreach (var (name, _) in obj)
            if (name != field) return (null, Bad($"unknown field '{name}' (allowed: {field})"));
        var value = obj[field];
        if (value is null)
            return required ? (null, Bad($"{field} is required: {{\"{field}\": <node id>}}")) : (null, null);
        if (value is not JsonValue v || !v.TryGetValue<int>(out var id) || !NodeSettings.InPortPlan(id))
            return (null, Bad($"{field} must be an integer between 1 and {NodeSettings.NodesMax}, was {value.ToJsonString()}"));
        return (id, null);
    }
}
