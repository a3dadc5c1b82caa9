using DistSysActors.Actors.LogPipeline;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using DistSysActors.Core.KeyValue;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static DistSysActors.Actors.KeyValue.ElectionProtocol;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Node.Http;

/// <summary>
/// Lease-based election and fenced registers over the replicated key-value store (README: Leader election):
/// <c>POST /election/{name}/campaign|renew|resign</c>, <c>GET /election/{name}</c>, <c>PUT|GET /fenced/{key}</c>.
/// A candidate is a JSON string or integer, and is answered as it was given.
/// </summary>
public static class ElectionHttpApi
{
    public const string FencingTokenHeader = "Fencing-Token";
    private const int BodyBytesMax = 8 * 1024;

    public static void Map(WebApplication app, NodeHost host)
    {
        var askTimeout = TimeSpan.FromMilliseconds(host.Settings.RequestTimeoutMs) + TimeSpan.FromSeconds(1);

        app.MapPost("/election/{name}/{action}", async (string name, string action, HttpContext http) =>
        {
            if (host.Runtime?.KvReplica is not { } kv) return Unavailable();
            if (action is not ("campaign" or "renew" or "resign")) return Results.Json(new ErrorDto("not found"), statusCode: 404);
            var (body, error) = await KvHttpApi.ReadValueAsync(http.Request, BodyBytesMax);
            if (error is not null) return error;
            var (write, parseError) = Parse(name, action, body!);
            return parseError ?? await WriteAsync(kv, TraceScope.Attach(write!, LogsHttpApi.TraceOf(http)), askTimeout);
        });

        app.MapGet("/election/{name}", async (string name) =>
        {
            if (host.Runtime?.KvReplica is not { } kv) return Unavailable();
            return await ReadAsync(kv, new GetLease(name), askTimeout, answer => answer switch
            {
                LeaseState { Lease: { } l } => Results.Json(LeaseJson(l)),
                LeaseState => Results.Json(new ErrorDto($"no candidate holds the lease '{name}'"), statusCode: 404),
                var other => KvHttpApi.Failure(other),
            });
        });

        app.MapPut("/fenced/{key}", async (string key, HttpContext http) =>
        {
            if (host.Runtime?.KvReplica is not { } kv) return Unavailable();
            var raw = http.Request.Headers[FencingTokenHeader];
            if (raw.Count != 1 || !long.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var token))
                return Results.Json(new ErrorDto($"the {FencingTokenHeader} header must be one non-negative integer"), statusCode: 400);
            var (value, error) = await KvHttpApi.ReadValueAsync(http.Request, host.Runtime.KvSettings.ValueBytesMax);
            return error ?? await WriteAsync(kv, TraceScope.Attach(new FencedPut(key, token, value!), LogsHttpApi.TraceOf(http)), askTimeout);
        });

        app.MapGet("/fenced/{key}", async (string key, HttpContext http) =>
        {
            if (host.Runtime?.KvReplica is not { } kv) return Unavailable();
            return await ReadAsync(kv, new GetFenced(key), askTimeout, answer =>
            {
                if (answer is not FencedState f) return KvHttpApi.Failure(answer);
                if (f.Value is null) return Results.Json(new ErrorDto("not found"), statusCode: 404);
                http.Response.Headers[FencingTokenHeader] = f.HighestToken!.Value.ToString(CultureInfo.InvariantCulture);
                return Results.Text(f.Value, "text/plain; charset=utf-8", Encoding.UTF8, 200);
            });
        });
    }

    /// <summary><c>{"candidate": ID, "ttlMs": T}</c> for a campaign, <c>{"candidate": ID, "token": N}</c> for renew and resign, strictly.</summary>
    public static (ElectionWrite? Write, IResult? Error) Parse(string name, string action, string body)
    {
        var number = action == "campaign" ? "ttlMs" : "token";
        return JsonBody.ParseRequest<ElectionWrite>(body, $"{{\"candidate\": ..., \"{number}\": ...}}", ["candidate", number], b =>
        {
            if (CandidateOf(b.Node("candidate")) is not { } candidate) throw new JsonBodyException("candidate must be a non-empty string or an integer");
            if (b.Long(number) is not { } n || n < 1) throw new JsonBodyException($"{number} must be a positive integer");
            return action switch
            {
                "campaign" => new Campaign(name, candidate, n),
                "renew" => new Renew(name, candidate, n),
                _ => new Resign(name, candidate, n),
            };
        });
    }

    /// <summary>The candidate's canonical JSON text (<c>"a"</c> or <c>7</c>), so it is answered in the type it was given.</summary>
    private static string? CandidateOf(JsonNode? node)
    {
        if (node is not JsonValue v) return null;
        if (v.TryGetValue<string>(out var s)) return s.Length > 0 ? JsonSerializer.Serialize(s) : null;
        return v.TryGetValue<long>(out var n) ? n.ToString(CultureInfo.InvariantCulture) : null;
    }

    private static JsonNode? Candidate(string holder) => JsonNode.Parse(holder);

    private static JsonObject LeaseJson(LeaseAnswer l) =>
        new() { ["leader"] = Candidate(l.Holder), ["token"] = l.Token, ["expiresInMs"] = l.ExpiresInMs };

    private static async Task<IResult> WriteAsync(IActorRef kv, ElectionWrite write, TimeSpan askTimeout)
    {
        try
        {
            var answer = await kv.Ask<object>(write, askTimeout);
            if (answer is not WriteResult r) return KvHttpApi.Failure(answer);
            var lease = LeaseAnswer.Parse(r.Current);
            return (write, r.Status) switch
            {
                (FencedPut f, KvStatus.Ok) => Results.Json(new { index = r.Index, token = f.Token }),
                (FencedPut, KvStatus.Fenced) => Results.Json(new { error = "a higher fencing token has been seen for this key", highestToken = long.Parse(r.Current!, CultureInfo.InvariantCulture) }, statusCode: 409),
                (Resign, KvStatus.Ok) => Results.Json(new JsonObject { ["resigned"] = true, ["leader"] = null, ["token"] = lease?.Token }),
                (_, KvStatus.Ok) when lease is not null => Results.Json(LeaseJson(lease)),
                (_, KvStatus.LeaseRefused) => Results.Json(new JsonObject
                {
                    ["error"] = lease is null ? "the candidate does not hold the lease (it expired or was never won)" : "another candidate holds the lease, or the token is not the holder's",
                    ["leader"] = lease is null ? null : Candidate(lease.Holder),
                    ["token"] = lease?.Token,
                }, statusCode: 409),
                (_, KvStatus.Invalid) => Results.Json(new ErrorDto("the lease or register table is full"), statusCode: 503),
                _ => Results.Json(new ErrorDto($"unexpected status {r.Status}"), statusCode: 500),
            };
        }
        catch (AskTimeoutException)
        {
            return Results.Json(new { error = "the write was not confirmed in time", outcome = "unknown" }, statusCode: 503);
        }
    }

    private static async Task<IResult> ReadAsync(IActorRef kv, ElectionRead read, TimeSpan askTimeout, Func<object, IResult> answer)
    {
        try { return answer(await kv.Ask<object>(read, askTimeout)); }
        catch (AskTimeoutException) { return Results.Json(new { error = "the read was not confirmed in time", outcome = "unknown" }, statusCode: 503); }
    }

    private static IResult Unavailable() =>
        Results.Json(new { error = "the replicated key-value store (Raft or Multi-Paxos) is not running on this node", outcome = "not-applied" }, statusCode: 503);
}
