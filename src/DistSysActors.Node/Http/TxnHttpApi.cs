using DistSysActors.Actors.LogPipeline;
using System.Text.Json.Nodes;
using System.Collections.Immutable;
using System.Text.Json;
using Akka.Actor;
using DistSysActors.Actors.Transactions;
using DistSysActors.Core;
using DistSysActors.Core.Transactions;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Http;

/// <summary>
/// Distributed transactions (README: Transactions). <c>POST /txn</c> runs one, coordinated by this node; <c>GET
/// /txn/{id}</c> answers from its coordinator (asked over HTTP when that is another node); <c>GET /txn/kv/{key}</c>
/// answers the key's committed value from its owner.
/// </summary>
public static class TxnHttpApi
{
    public const int BodyBytesMax = 1024 * 1024;

    public static void Map(WebApplication app, NodeHost host)
    {
        var timeout = TimeSpan.FromMilliseconds(host.Settings.RequestTimeoutMs);
        // The actor answers "unknown" at its own deadline; the HTTP wait is a little longer so that answer wins.
        var askTimeout = timeout + TimeSpan.FromSeconds(1);

        app.MapPost("/txn", async (HttpContext http) =>
        {
            // Replicated mode: the same request to this node's replicated actor, which hands it to the coordinating group's leader.
            if ((Role(host, Txn.Role.Coordinator) ?? ReplicatedTxnHttpApi.Actor(host)) is not { } coordinator) return Unavailable();
            var (body, bodyError) = await KvHttpApi.ReadValueAsync(http.Request, BodyBytesMax);
            if (bodyError is not null) return bodyError;
            var (request, error) = TxnRequestJson.Parse(body!);
            if (error is not null) return Results.Json(new ErrorDto(error), statusCode: 400);
            var (idem, idemError) = KvHttpApi.Idempotency(http.Request, body!);
            if (idemError is not null) return idemError;
            try
            {
                var answer = await coordinator.Ask<object>(TraceScope.Attach(new TxnLocal.Submit(request!.Value.Protocol, request.Value.Ops, idem?.Key, idem?.Fingerprint,
                    host.Settings.RequestTimeoutMs), LogsHttpApi.TraceOf(http)), askTimeout);
                if (answer is Txn.TxnAnswer { Replayed: true }) http.Response.Headers[KvHttpApi.ReplayedHeader] = "true";
                return answer switch
                {
                    Txn.TxnAnswer { Outcome: TxnState.Committed } a => Results.Json(new TxnOutcomeDto(a.Id.ToString(), "committed")),
                    Txn.TxnAnswer { Outcome: TxnState.Aborted } a => Results.Json(new TxnOutcomeDto(a.Id.ToString(), "aborted", a.Reason), statusCode: 409),
                    Txn.TxnAnswer a => Results.Json(new TxnOutcomeDto(a.Id.ToString(), "unknown"), statusCode: 503),
                    TxnLocal.Refused r => Results.Json(new ErrorDto(r.Reason), statusCode: r.StatusCode),
                    var other => Results.Json(new ErrorDto($"unexpected answer {other.GetType().Name}"), statusCode: 500),
                };
            }
            catch (AskTimeoutException)
            {
                return Results.Json(new { error = "the coordinator did not answer in time", outcome = "unknown" }, statusCode: 503);
            }
        });

        app.MapGet("/txn/kv/{key}", async (string key) =>
        {
            if (string.IsNullOrEmpty(key) || System.Text.Encoding.UTF8.GetByteCount(key) > TxnOps.KeyBytesMax) return Results.Json(new ErrorDto($"a key is 1 to {TxnOps.KeyBytesMax} bytes"), statusCode: 400);
            if (ReplicatedTxnHttpApi.Actor(host) is { } replicated) return await ReplicatedTxnHttpApi.ReadKeyAsync(host, replicated, key, timeout);
            var owner = Partitioner(host).OwnerOf(key);
            if (owner.Value != host.Node.Id) return await ProxyAsync(host, owner.Value, $"/txn/kv/{Uri.EscapeDataString(key)}", timeout);
            if (Role(host, Txn.Role.Participant) is not { } participant) return Unavailable();
            try
            {
                var answer = await participant.Ask<TxnLocal.KeyValue>(new TxnLocal.ReadKey(key), timeout);
                return answer.Value is { } value ? Results.Text(value, "text/plain; charset=utf-8") : Results.Json(new ErrorDto($"key {key} has no committed value"), statusCode: 404);
            }
            catch (AskTimeoutException) { return Results.Json(new { error = "the participant did not answer in time", outcome = "unknown" }, statusCode: 503); }
        });

        app.MapGet("/txn/{id}", async (string id) =>
        {
            if (!TxnId.TryParse(id, out var txnId)) return Results.Json(new ErrorDto($"'{id}' is not a transaction id (node-sequence, e.g. 2-17)"), statusCode: 404);
            if (ReplicatedTxnHttpApi.Actor(host) is { } replicated) return await ReplicatedTxnHttpApi.ViewAsync(host, replicated, txnId, timeout);
            if (txnId.Coordinator.Value > host.Node.Nodes) return Results.Json(new ErrorDto($"no node {txnId.Coordinator} coordinates transactions"), statusCode: 404);
            if (txnId.Coordinator.Value != host.Node.Id) return await ProxyAsync(host, txnId.Coordinator.Value, $"/txn/{txnId}", timeout);
            if (Role(host, Txn.Role.Coordinator) is not { } coordinator) return Unavailable();
            try
            {
                var view = (await coordinator.Ask<TxnLocal.View>(new TxnLocal.GetView(txnId), timeout)).Txn;
                return view is null ? Results.Json(new ErrorDto($"transaction {txnId} is unknown"), statusCode: 404) : Results.Json(TxnViewDto.From(view));
            }
            catch (AskTimeoutException) { return Results.Json(new { error = "the coordinator did not answer in time", outcome = "unknown" }, statusCode: 503); }
        });
    }

    private static TxnPartitioner Partitioner(NodeHost host) => new(Enumerable.Range(1, host.Node.Nodes).Select(i => new NodeId(i)));

    private static IActorRef? Role(NodeHost host, Txn.Role role) => host.Runtime?.Module(new TxnRoleModule(role).Name);

    /// <summary>Asks node <paramref name="node"/>'s own HTTP API and passes its answer on.</summary>
    internal static async Task<IResult> ProxyAsync(NodeHost host, int node, string path, TimeSpan timeout)
    {
        if (PeerHttp.UrlOf(host, node) is not { } url)
            return Results.Json(new { error = $"node {node}, which holds the answer, is not a cluster member now: its HTTP address is not known", outcome = "unknown" }, statusCode: 503);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            using var response = await host.PeerClient.GetAsync($"{url}{path}", deadline.Token);
            var body = await response.Content.ReadAsStringAsync(deadline.Token);
            var code = (int)response.StatusCode;
            return Results.Text(body, code == 200 && path.StartsWith("/txn/kv/", StringComparison.Ordinal) ? "text/plain; charset=utf-8" : "application/json", statusCode: code);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            var cause = e is OperationCanceledException ? $"no answer within {timeout.TotalMilliseconds:0} ms" : e.Message;
            return Results.Json(new { error = $"node {node}, which holds the answer, did not answer: {cause}", outcome = "unknown" }, statusCode: 503);
        }
    }

    private static IResult Unavailable() =>
        Results.Json(new { error = "transactions are not running on this node (distsys.txn.enabled)", outcome = "not-applied" }, statusCode: 503);
}

/// <summary>The body of <c>POST /txn</c>, read strictly: every problem is named, nothing is guessed.</summary>
public static class TxnRequestJson
{
    private static readonly string[] Fields = ["protocol", "ops"];
    private static readonly string[] PutFields = ["op", "key", "value"], DeleteFields = ["op", "key"], AddFields = ["op", "key", "delta", "min"];

    public static ((TxnProtocol Protocol, ImmutableArray<TxnOp> Ops)? Request, string? Error) Parse(string body)
    {
        var (request, error) = JsonBody.Parse(body, "{\"protocol\": ..., \"ops\": [...]}", Fields, b =>
        {
            if (TxnNames.ParseProtocol(b.StringOrNull("protocol")) is not { } protocol)
                throw new JsonBodyException("protocol must be \"2pc\", \"3pc\" or \"saga\"");
            var ops = b.Array("ops", static n => n, "an array of ops") ?? throw new JsonBodyException("ops must be an array of ops");
            return ((TxnProtocol, ImmutableArray<TxnOp>)?)(protocol, [.. ops.Select(ParseOp)]);
        });
        if (request is not { } r) return (null, error);
        return TxnOps.Validate(r.Item2) is { } invalid ? (null, invalid) : (r, null);
    }

    private static TxnOp ParseOp(JsonNode? node, int i)
    {
        var kind = node is JsonObject o && o["op"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        var what = $"ops[{i}]";
        switch (kind)
        {
            case "put":
            {
                var op = JsonBody.Object(node, what, PutFields);
                return new PutOp(Key(op, what), op.StringOrNull("value") ?? throw new JsonBodyException($"{what}.value must be a string"));
            }
            case "delete":
                return new DeleteOp(Key(JsonBody.Object(node, what, DeleteFields), what));
            case "add":
            {
                var op = JsonBody.Object(node, what, AddFields);
                return new AddOp(Key(op, what), op.Long("delta") ?? throw new JsonBodyException($"{what}.delta must be an integer"), op.Long("min"));
            }
            default:
                throw new JsonBodyException($"{what}.op must be \"put\", \"delete\" or \"add\"");
        }
    }

    private static string Key(JsonBody op, string what) =>
        op.StringOrNull("key") ?? throw new JsonBodyException($"{what}.key must be a string");
}

/// <summary>The answer of <c>POST /txn</c>: the id and the outcome (committed, aborted with its reason, unknown).</summary>
public sealed record TxnOutcomeDto(
    string Id, string Outcome,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);

public sealed record TxnParticipantDto(int NodeId, string State);

/// <summary><c>GET /txn/{id}</c>: the coordinator's view of a transaction and of each participant.</summary>
public sealed record TxnViewDto(
    string Id, string Protocol, string State, IReadOnlyList<TxnParticipantDto> Participants,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Reason = null)
{
    public static TxnViewDto From(Txn.TxnView v) =>
        new(v.Id.ToString(), TxnNames.Of(v.Protocol), TxnNames.Of(v.State), [.. v.Participants.Select(p => new TxnParticipantDto(p.Participant.Value, TxnNames.Of(p.State)))], v.Reason);
}

/// <summary><c>/status.txn</c>: this node's in-doubt transactions (age, locks), locks held, transactions it coordinates still running.</summary>
public sealed record TxnStatusDto(IReadOnlyList<TxnInDoubtDto> InDoubt, int LocksHeld, int Running);

public sealed record TxnInDoubtDto(string Id, string Protocol, string State, long AgeMs, IReadOnlyList<string> Locks);

/// <summary><c>txn</c>: the participant's in-doubt transactions and locks, the coordinator's running count.</summary>
public sealed class TxnApi : NodeModuleApi
{
    public override string ModuleName => new TxnRoleModule(Txn.Role.Participant).Name;
    public override string StatusField => "txn";

    public override async Task<object?> StatusAsync(ModuleAsks asks)
    {
        if (await ReplicatedTxnHttpApi.StatusAsync(asks) is { } replicated) return replicated;
        if (await asks.AskAsync<TxnLocal.RoleStatus>(ModuleName, TxnLocal.GetStatus.Instance) is not { } p) return null;
        var c = await asks.AskAsync<TxnLocal.RoleStatus>(new TxnRoleModule(Txn.Role.Coordinator).Name, TxnLocal.GetStatus.Instance);
        return new TxnStatusDto([.. p.InDoubt.Select(d => new TxnInDoubtDto(d.Id.ToString(), TxnNames.Of(d.Protocol), TxnNames.Of(d.State), d.AgeMs, d.Locks))], p.LocksHeld, c?.Running ?? 0);
    }
}
