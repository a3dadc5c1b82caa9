using System.Text;
using Akka.Actor;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.LogPipeline;
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

        app.MapGet("/kv/{key}", async (string key, HttpContext http) =>
        {
            if (host.Runtime?.KvReplica is not { } raft) return Unavailable();
            var (get, error) = ParseRead(key, http.Request.Query);
            if (error is not null) return error;
            try
            {
                var answer = await raft.Ask<object>(TraceScope.Attach(get!, LogsHttpApi.TraceOf(http)), askTimeout);
                long? applied = answer switch { ReadResult r => r.AppliedIndex, Behind b => b.AppliedIndex, _ => null };
                if (applied is { } index) http.Response.Headers[AppliedIndexHeader] = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return answer switch
                {
                    ReadResult { Found: true } r => Results.Text(r.Value!, "text/plain; charset=utf-8", Encoding.UTF8, 200),
                    ReadResult => Results.Json(new ErrorDto("not found"), statusCode: 404),
                    Behind b => Results.Json(new { error = b.Reason, outcome = "behind", appliedIndex = b.AppliedIndex, lagMs = b.LagMs }, statusCode: 503),
                    var other => Failure(other),
                };
            }
            catch (AskTimeoutException) { return Results.Json(new { error = "the read was not confirmed in time", outcome = "unknown" }, statusCode: 503); }
        });
    }

    /// <summary>The applied index of the replica that served a read (on every answered GET): the min-index of a monotonic read that follows.</summary>
    public const string AppliedIndexHeader = "X-Applied-Index";

    /// <summary>
    /// <c>consistency</c> (linearizable by default, lease, stale, read-your-writes, monotonic, bounded) and its one
    /// parameter: <c>min-index</c> (a non-negative integer) for read-your-writes and monotonic, <c>max-lag-ms</c> for
    /// bounded; required there and refused elsewhere, so a misspelt request fails instead of silently reading stale data.
    /// </summary>
    public static (Get? Get, IResult? Error) ParseRead(string key, IQueryCollection query)
    {
        static IResult Bad(string message) => Results.Json(new ErrorDto(message), statusCode: 400);
        var consistency = query.TryGetValue("consistency", out var c) ? c.ToString() : "linearizable";
        Consistency level;
        switch (consistency)
        {
            case "linearizable": level = Consistency.Linearizable; break;
            case "lease": level = Consistency.Lease; break;
            case "stale": level = Consistency.Stale; break;
            case "read-your-writes": level = Consistency.ReadYourWrites; break;
            case "monotonic": level = Consistency.Monotonic; break;
            case "bounded": level = Consistency.Bounded; break;
            default:
                return (null, Bad($"consistency must be linearizable, lease, stale, read-your-writes, monotonic or bounded, was '{consistency}'"));
        }
        var needs = level switch
        {
            Consistency.ReadYourWrites or Consistency.Monotonic => "min-index",
            Consistency.Bounded => "max-lag-ms",
            _ => null,
        };
        foreach (var parameter in new[] { "min-index", "max-lag-ms" })
            if (parameter != needs && query.ContainsKey(parameter))
                return (null, Bad($"{parameter} applies only to consistency={(parameter == "min-index" ? "read-your-writes or monotonic" : "bounded")}, not {consistency}"));
        if (needs is null) return (new Get(key, level), null);
        if (!query.TryGetValue(needs, out var raw)) return (null, Bad($"consistency={consistency} needs {needs}"));
        if (raw.Count != 1 || !long.TryParse(raw.ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
            return (null, Bad($"{needs} must be a non-negative integer, was '{raw}'"));
        return (level == Consistency.Bounded ? new Get(key, level, MaxLagMs: n) : new Get(key, level, MinIndex: n), null);
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
            var answer = await raft.Ask<object>(TraceScope.Attach(write, LogsHttpApi.TraceOf(http)), askTimeout);
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

    internal static IResult Failure(object answer) => answer switch
    {
        Unavailable u => Results.Json(new { error = u.Reason, outcome = u.Unknown ? "unknown" : "not-applied" }, statusCode: 503),
        IdempotencyConflict c => Results.Json(new ErrorDto(c.Reason), statusCode: 422),
        Rejected { TooLarge: true } r => Results.Json(new ErrorDto(r.Reason), statusCode: 413),
        Rejected r => Results.Json(new ErrorDto(r.Reason), statusCode: 400),
        _ => Results.Json(new ErrorDto($"unexpected answer {answer.GetType().Name}"), statusCode: 500),
    };

    /// <summary>Reads the value (the body) as UTF-8 text, refusing (413) more than <paramref name="bytesMax"/> bytes without reading them all.</summary>
    internal static Task<(string? Text, IResult? Error)> ReadValueAsync(HttpRequest request, int bytesMax) =>
        JsonBody.ReadTextAsync(request, bytesMax, "the value");

    /// <summary><c>{"expected": string or null, "value": string}</c>, strictly.</summary>
    public static (Cas? Cas, IResult? Error) ParseCas(string key, string body) =>
        JsonBody.ParseRequest(body, "{\"expected\": ..., \"value\": ...}", CasFields,
            b => new Cas(key, b.StringOrNull("expected"), b.String("value")));

    private static readonly string[] CasFields = ["expected", "value"];
}
