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
/// Raft membership and leadership transfer over HTTP. Any node accepts: the endpoints ask the local replica, which
/// passes a follower's request on to the leader's replica (the way a follower's writes reach the leader) and answers
/// with the leader's answer.
/// </summary>
public static class AdminHttpApi
{
    /// <summary>Admin request bodies are a few bytes; anything larger is refused unread.</summary>
    public const int BodyBytesMax = 4096;

    public static void Map(WebApplication app, NodeHost host)
    {
        // The replica answers "unknown" at its own deadline (a forwarded request a little after the leader's); the HTTP
        // wait is longer so that answer wins.
        var askTimeout = TimeSpan.FromMilliseconds(host.Settings.RequestTimeoutMs) + TimeSpan.FromSeconds(1);

        app.MapGet("/admin/members", (Delegate)(() => HandleAsync(host, GetMembers.Instance, askTimeout)));

        app.MapPost("/admin/members", async (HttpContext http) =>
        {
            var (body, error) = await ReadBodyAsync(http.Request);
            if (error is not null) return error;
            var (id, parseError) = ParseNodeField(body!, "nodeId", required: true);
            return parseError ?? await HandleAsync(host, new AddMember(id!.Value), askTimeout);
        });

        app.MapDelete("/admin/members/{id}", (string id) =>
            int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && NodeSettings.InPortPlan(n)
                ? HandleAsync(host, new RemoveMember(n), askTimeout)
                : Task.FromResult(Bad($"the node id must be an integer between 1 and {NodeSettings.NodesMax}, was '{id}'")));

        // Asked by a node that starts with no Raft state (NodeHost.CheckForLostStateAsync): has this node seen node {id}?
        app.MapGet("/admin/seen/{id}", async (string id) =>
        {
            if (!int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || !NodeSettings.InPortPlan(n))
                return Bad($"the node id must be an integer between 1 and {NodeSettings.NodesMax}, was '{id}'");
            var (answer, error) = await host.SeenAsync(n, askTimeout);
            return answer is not null ? Results.Json(answer) : Results.Json(new ErrorDto(error!), statusCode: 503);
        });

        app.MapPost("/admin/raft/transfer", async (HttpContext http) =>
        {
            var (body, error) = await ReadBodyAsync(http.Request);
            if (error is not null) return error;
            var (to, parseError) = ParseNodeField(body!, "to", required: false);
            return parseError ?? await HandleAsync(host, new TransferLeadership(to), askTimeout);
        });
    }

    private static async Task<IResult> HandleAsync(NodeHost host, AdminRequest request, TimeSpan askTimeout)
    {
        if (host.Runtime?.Raft is not { } raft)
            return Results.Json(new { error = "the Raft replica is not running on this node", outcome = "not-applied" }, statusCode: 503);
        object answer;
        try { answer = await raft.Ask<object>(request, askTimeout); }
        catch (AskTimeoutException)
        {
            return request is GetMembers
                ? Results.Json(new ErrorDto("the Raft replica did not answer in time"), statusCode: 503)
                : Results.Json(new { error = "the change was not confirmed in time", outcome = "unknown" }, statusCode: 503);
        }
        return answer switch
        {
            Members m => Results.Json(MembersDtoOf(m)),
            TransferDone t => Results.Json(new TransferDto(t.LeaderId, t.Term)),
            // The replica passes requests on to a leader it knows: NotLeader means it knows none.
            NotLeader => Results.Json(new { error = "no Raft leader is known (an election may be under way); retry", outcome = "not-applied" }, statusCode: 503),
            Rejected r => Results.Json(new ErrorDto(r.Reason), statusCode: 409),
            Unavailable u => Results.Json(new { error = u.Reason, outcome = u.Unknown ? "unknown" : "not-applied" }, statusCode: 503),
            _ => Results.Json(new ErrorDto($"unexpected answer {answer.GetType().Name}"), statusCode: 500),
        };
    }

    private static MembersDto MembersDtoOf(Members m) =>
        new(m.Servers.OrderBy(s => s.NodeId).Select(s => new MemberInfoDto(s.NodeId, s.Voter, s.MatchIndex, s.Lag)).ToList(), m.LeaderId, m.CommitIndex);

    private static IResult Bad(string message) => Results.Json(new ErrorDto(message), statusCode: 400);

    private static Task<(string? Text, IResult? Error)> ReadBodyAsync(HttpRequest request) => JsonBody.ReadTextAsync(request, BodyBytesMax);

    /// <summary>
    /// A body that is a JSON object whose only field is <paramref name="field"/>, a node id of the port plan; an empty
    /// body, <c>{}</c> and null stand for "none" when the field is optional.
    /// </summary>
    public static (int? NodeId, IResult? Error) ParseNodeField(string body, string field, bool required) =>
        JsonBody.ParseRequest(body, $"{{\"{field}\": <node id>}}", [field], b =>
        {
            if (b.Node(field) is null)
                return required ? throw new JsonBodyException($"{field} is required: {{\"{field}\": <node id>}}") : (int?)null;
            return b.Node(field) is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var id) && NodeSettings.InPortPlan(id)
                ? id
                : throw new JsonBodyException($"{field} must be an integer between 1 and {NodeSettings.NodesMax}, was {JsonBody.Show(b.Node(field))}");
        }, emptyIsEmptyObject: true);
}
