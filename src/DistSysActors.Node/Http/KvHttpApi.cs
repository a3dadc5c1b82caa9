using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Core.KeyValue;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static DistSysActors.Actors.KeyValue.KvProtocol;

namespace DistSysActors.Node.Http;

/// <summary>The replicated key-value API (README: HTTP API) over the node's <see cref="KvService"/>, hosted by its Raft or Multi-Paxos replica.</summary>
public static class KvHttpApi
{
    public static void Map(WebApplication app, NodeHost host)
    {
        var timeout = TimeSpan.FromMilliseconds(host.Settings.RequestTimeoutMs);
        // The actor answers "unknown" at its own deadline; the HTTP wait is a little longer so that answer wins.
        var askTimeout = timeout + TimeSpan.FromSeconds(1);

        app.MapPut("/kv/{key}", async (string key, HttpContext http) =>
        {
            if (host.Runtime?.KvReplica is not { } raft) return Unavailable();
            var (value, error) = await ReadValueAsync(http.Request, host.Runtime.KvSettings.ValueBytesMax);
            if (error is not null) return error;
            var (idem, idemError) = Idempotency(http.Request, value!);
            return idemError ?? await WriteAsync(http, raft, new Put(key, value!) { Idempotency = idem }, askTimeout);
        });

        app.MapDelete("/kv/{key}", async (string key, HttpContext http) =>
        {
            if (host.Runtime?.KvReplica is not { } raft) return Unavailable();
            var (idem, idemError) = Idempotency(http.Request, "");
            return idemError ?? await WriteAsync(http, raft, new Delete(key) { Idempotency = idem }, askTimeout);
        });

        app.MapPost("/kv/{key}/cas", async (string key, HttpContext http) =>
        {
            if (host.Runtime?.KvReplica is not { } raft) return Unavailable();
            var limit = 2 * host.Runtime.KvSettings.ValueBytesMax + 1024;
            var (body, error) = await ReadValueAsync(http.Request, limit);
            if (error is not null) return error;
            var (cas, parseError) = ParseCas(key, body!);
            if (parseError is not null) return parseError;
            var (idem, idemError) = Idempotency(http.Request, body!);
            return idemError ?? await WriteAsync(http, raft, cas! with { Idempotency = idem }, askTimeout);
        });

        app.MapGet("/kv/{key}", async (string key, string? consistency) =>
        {
            if (host.Runtime?.KvReplica is not { } raft) return Unavailable();
            Consistency level;
            switch (consistency ?? "linearizable")
            {
                case "linearizable": level = Consistency.Linearizable; break;
                case "lease": level = Consistency.Lease; break;
                case "stale": level = Consistency.Stale; break;
                default: return Results.Json(new ErrorDto($"consistency must be linearizable, lease or stale, was '{consistency}'"), statusCode: 400);
            }
            try
            {
                return await raft.Ask<object>(new Get(key, level), askTimeout) switch
                {
                    ReadResult { Found: true } r => Results.Text(r.Value!, "text/plain; charset=utf-8", Encoding.UTF8, 200),
                    ReadResult => Results.Json(new ErrorDto("not found"), statusCode: 404),
                    var other => Failure(other),
                };
            }
            catch (AskTimeoutException) { return Results.Json(new { error = "the read was not confirmed in time", outcome = "unknown" }, statusCode: 503); }
        });
    }

    private static IResult Unavailable() =>
        Results.Json(new { error = "the replicated key-value store (Raft or Multi-Paxos) is not running on this node", outcome = "not-applied" }, statusCode: 503);

    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>
    /// The optional Idempotency-Key header (1-255 printable ASCII characters) and the request's fingerprint: a hash
    /// of method, path and body, so the same key with another request is recognised.
    /// </summary>
    public static (KvIdempotency? Idempotency, IResult? Error) Idempotency(HttpRequest request, string body)
    {
        if (!request.Headers.TryGetValue(IdempotencyKeyHeader, out var values)) return (null, null);
        var key = values.ToString();
        if (values.Count != 1 || key.Length is < 1 or > KvCodec.IdempotencyKeyBytesMax || key.Any(ch => ch is < ' ' or > '~'))
            return (null, Results.Json(new ErrorDto($"{IdempotencyKeyHeader} must be one value of 1 to {KvCodec.IdempotencyKeyBytesMax} printable ASCII characters"), statusCode: 400));
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{request.Method}\n{request.Path}\n{body}"));
        return (new KvIdempotency(key, Convert.ToHexString(hash)), null);
    }

    private static async Task<IResult> WriteAsync(HttpContext http, IActorRef raft, KvWrite write, TimeSpan askTimeout)
    {
        try
        {
            var answer = await raft.Ask<object>(write, askTimeout);
            if (answer is WriteResult { Replayed: true }) http.Response.Headers[ReplayedHeader] = "true";
            return answer switch
            {
                WriteResult { Status: KvStatus.CasMismatch } r => Results.Json(new { error = "compare-and-set failed", current = r.Current, index = r.Index }, statusCode: 409),
                WriteResult { Status: KvStatus.NotFound } r => Results.Json(new { index = r.Index, deleted = false }),
                WriteResult r when write is Delete => Results.Json(new { index = r.Index, deleted = true }),
                WriteResult r => Results.Json(new { index = r.Index }),
                var other => Failure(other),
            };
        }
        catch (AskTimeoutException)
        {
            return Results.Json(new { error = "the write was not confirmed in time", outcome = "unknown" }, statusCode: 503);
        }
    }

    private static IResult Failure(object answer) => answer switch
    {
        Unavailable u => Results.Json(new { error = u.Reason, outcome = u.Unknown ? "unknown" : "not-applied" }, statusCode: 503),
        IdempotencyConflict c => Results.Json(new ErrorDto(c.Reason), statusCode: 422),
        Rejected { TooLarge: true } r => Results.Json(new ErrorDto(r.Reason), statusCode: 413),
        Rejected r => Results.Json(new ErrorDto(r.Reason), statusCode: 400),
        _ => Results.Json(new ErrorDto($"unexpected answer {answer.GetType().Name}"), statusCode: 500),
    };

    /// <summary>Reads the body as UTF-8 text, refusing (413) more than <paramref name="bytesMax"/> bytes without reading them all.</summary>
    internal static async Task<(string? Value, IResult? Error)> ReadValueAsync(HttpRequest request, int bytesMax)
    {
        if (request.ContentLength > bytesMax)
            return (null, Results.Json(new ErrorDto($"the value exceeds {bytesMax} bytes"), statusCode: 413));
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > bytesMax) return (null, Results.Json(new ErrorDto($"the value exceeds {bytesMax} bytes"), statusCode: 413));
        }
        try { return (new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.ToArray()), null); }
        catch (DecoderFallbackException) { return (null, Results.Json(new ErrorDto("the value must be UTF-8 text"), statusCode: 400)); }
    }

    /// <summary><c>{"expected": string or null, "value": string}</c>, strictly.</summary>
    public static (Cas? Cas, IResult? Error) ParseCas(string key, string body)
    {
        static IResult Bad(string message) => Results.Json(new ErrorDto(message), statusCode: 400);
        JsonNode? root;
        try { root = JsonNode.Parse(body); }
        catch (JsonException e) { return (null, Bad($"malformed JSON: {e.Message}")); }
        if (root is not JsonObject obj) return (null, Bad("the body must be a JSON object {\"expected\": ..., \"value\": ...}"));
        foreach (var (name, _) in obj)
            if (name is not ("expected" or "value")) return (null, Bad($"unknown field '{name}' (allowed: expected, value)"));
        if (obj["value"] is not JsonValue v || !v.TryGetValue<string>(out var value)) return (null, Bad("value must be a string"));
        string? expected = null;
        if (obj["expected"] is { } exp && !(exp is JsonValue ev && ev.TryGetValue(out expected)))
            return (null, Bad("expected must be a string or null"));
        return (new Cas(key, expected, value), null);
    }
}
