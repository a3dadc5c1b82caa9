using DistSysActors.Actors.LogPipeline;
using System.Globalization;
using System.Text;
using Akka.Actor;
using DistSysActors.Actors.Gossip;
using DistSysActors.Core.Gossip;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Http;

/// <summary>
/// The anti-entropy AP store (README: CP vs AP): <c>PUT /ap/{key}</c> (body = value) is answered 200 by any node that is
/// up, partitioned or not, as soon as the local replica has it on disk; <c>GET /ap/{key}</c> answers this node's replica (404 if absent or deleted) with its
/// version in <c>X-Hlc</c> (<c>wallMs.logical</c>) and <c>X-Hlc-Writer</c>; <c>DELETE /ap/{key}</c> writes a tombstone.
/// </summary>
public static class ApHttpApi
{
    public const string HlcHeader = "X-Hlc";
    public const string WriterHeader = "X-Hlc-Writer";

    public static void Map(WebApplication app, NodeHost host)
    {
        var timeout = TimeSpan.FromMilliseconds(host.Settings.RequestTimeoutMs);

        app.MapPut("/ap/{key}", async (string key, HttpContext http) =>
        {
            if (Store(host) is not { } store) return Unavailable();
            var (value, error) = await KvHttpApi.ReadValueAsync(http.Request, GossipSettings.Create(host.Runtime!.System.Settings.Config).Ap.ValueBytesMax);
            if (error is not null) return error;
            return await WriteAsync(http, store, new GossipProtocol.ApWrite(key, value!), timeout);
        });

        app.MapDelete("/ap/{key}", (string key, HttpContext http) =>
            Store(host) is { } store ? WriteAsync(http, store, new GossipProtocol.ApWrite(key, null), timeout) : Task.FromResult(Unavailable()));

        app.MapGet("/ap/{key}", async (string key, HttpContext http) =>
        {
            if (Store(host) is not { } store) return Unavailable();
            try
            {
                var read = await store.Ask<GossipProtocol.ApRead>(new GossipProtocol.ApGet(key), timeout);
                if (read.Entry is not { } entry) return Results.Json(new ErrorDto("not found"), statusCode: 404);
                SetVersion(http, entry.Version);
                return entry.Value is { } v
                    ? Results.Text(v, "text/plain; charset=utf-8", Encoding.UTF8, 200)
                    : Results.Json(new ErrorDto("not found", "deleted"), statusCode: 404);
            }
            catch (AskTimeoutException) { return Results.Json(new { error = "the AP store did not answer in time", outcome = "unknown" }, statusCode: 503); }
        });
    }

    private static async Task<IResult> WriteAsync(HttpContext http, IActorRef store, GossipProtocol.ApWrite write, TimeSpan timeout)
    {
        try
        {
            switch (await store.Ask<ApWriteResult>(TraceScope.Attach(write, LogsHttpApi.TraceOf(http)), timeout))
            {
                case ApWriteResult.Written { Entry: var e }:
                    SetVersion(http, e.Version);
                    return Results.Json(new ApWrittenDto(e.Key, e.Version.Hlc.ToString(), e.Version.Writer.Value, e.IsTombstone));
                case ApWriteResult.Refused { TooLarge: true } r:
                    return Results.Json(new ErrorDto(r.Reason), statusCode: 413);
                case ApWriteResult.Refused r when r.Reason.StartsWith("overloaded", StringComparison.Ordinal):
                    return Results.Json(new { error = r.Reason, outcome = "not-applied" }, statusCode: 503);
                case ApWriteResult.Refused r when r.Reason.Contains("limit of", StringComparison.Ordinal):
                    return Results.Json(new ErrorDto(r.Reason), statusCode: 507);
                case ApWriteResult.Refused r:
                    return Results.Json(new ErrorDto(r.Reason), statusCode: 400);
            }
        }
        catch (AskTimeoutException) { }
        return Results.Json(new { error = "the AP store did not answer in time", outcome = "unknown" }, statusCode: 503);
    }

    private static void SetVersion(HttpContext http, ApVersion version)
    {
        http.Response.Headers[HlcHeader] = version.Hlc.ToString();
        http.Response.Headers[WriterHeader] = version.Writer.Value.ToString(CultureInfo.InvariantCulture);
    }

    private static IActorRef? Store(NodeHost host) => host.Runtime?.Module(new ApStoreModule().Name);

    private static IResult Unavailable() =>
        Results.Json(new { error = "the AP store is not running on this node (distsys.gossip.enabled)", outcome = "not-applied" }, statusCode: 503);
}

/// <summary>A write to the AP store: the version it got (<c>hlc</c> "wallMs.logical", <c>writer</c>), and whether it is a delete.</summary>
public sealed record ApWrittenDto(string Key, string Hlc, int Writer, bool Deleted);

/// <summary><c>gossip</c>: this node's SWIM view (<c>members[]</c>: <c>nodeId</c>, <c>state</c>, <c>incarnation</c>), periods run and messages sent.</summary>
public sealed class GossipApi : NodeModuleApi
{
    public override string ModuleName => new SwimModule().Name;
    public override string StatusField => "gossip";

    public override async Task<object?> StatusAsync(ModuleAsks asks) =>
        await asks.AskAsync<SwimStatus>(ModuleName, GossipProtocol.GetSwimStatus.Instance) is { } s
            ? new GossipDto(
                [.. s.Members.Select(m => new GossipMemberDto(m.Member.Value, StateName(m.State), m.Incarnation))],
                s.Rounds, s.MessagesSent, s.PingReqsSent, s.SuspicionsRaised, s.Refutations)
            : null;

    public static string StateName(MemberState state) => state switch
    {
        MemberState.Alive => "alive",
        MemberState.Suspect => "suspect",
        _ => "dead",
    };
}

/// <summary><c>apStore</c>: the AP store's size and anti-entropy counters.</summary>
public sealed class ApStoreApi : NodeModuleApi
{
    public override string ModuleName => new ApStoreModule().Name;
    public override string StatusField => "apStore";

    public override async Task<object?> StatusAsync(ModuleAsks asks) =>
        await asks.AskAsync<ApStoreStatus>(ModuleName, GossipProtocol.GetApStatus.Instance) is { } s
            ? new ApStoreDto(s.Keys, s.Tombstones, s.Rounds, s.ExchangesStarted, s.EntriesSent, s.EntriesApplied, s.TombstonesPurged, s.Hlc.ToString())
            : null;
}

public sealed record GossipMemberDto(int NodeId, string State, long Incarnation);

public sealed record GossipDto(IReadOnlyList<GossipMemberDto> Members, long Rounds, long MessagesSent, long PingReqsSent, long SuspicionsRaised, long Refutations);

public sealed record ApStoreDto(int Keys, int Tombstones, long Rounds, long ExchangesStarted, long EntriesSent, long EntriesApplied, long TombstonesPurged, string Hlc);
