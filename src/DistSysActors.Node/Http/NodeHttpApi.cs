using Akka.Actor;
using Akka.Cluster;
using DistSysActors.Actors.Hosting;
using DistSysActors.Actors.Network;
using DistSysActors.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DistSysActors.Node.Http;

/// <summary>The HTTP contract every node serves (README: HTTP API), on loopback unless distsys.http.bind says otherwise.</summary>
public static class NodeHttpApi
{
    public static WebApplication Build(NodeHost host)
    {
        // No configuration file is read, so nothing is watched: by default the host watches its content root (the
        // working folder, where the nodes' SQLite files change with every write) with a recursive FileSystemWatcher,
        // whose thread took ~5% of the machine's CPU under write load.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        // The host's own log entries (warnings and above) go to the node's log pipeline (README "Distributed logging").
        builder.Logging.AddProvider(new NodeLogLoggerProvider(host));
        var http = host.HttpSettings;
        builder.WebHost.ConfigureKestrel(k =>
        {
            HttpGuards.ConfigureKestrel(k);
            k.Listen(http.Bind, host.Node.SelfHttpPort);
        });
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.WriteIndented = false);
        var app = builder.Build();
        // First, so every answer (refusals by the guards included) carries a traceparent.
        LogsHttpApi.UseTraceContext(app, host);
        HttpGuards.Use(app, http, message => Console.Error.WriteLine($"node {host.Node.Id}: {message}"));
        var timeout = TimeSpan.FromMilliseconds(host.Settings.RequestTimeoutMs);

        app.MapGet("/health/live", () => HealthChecks.LiveAsync(host, timeout));

        app.MapGet("/health/ready", () => HealthChecks.ReadyAsync(host, timeout));

        app.MapGet("/status", async () =>
        {
            if (host.Runtime is not { } runtime) return Results.Json(new ErrorDto("unavailable", "the actor system is restarting"), statusCode: 503);
            try { return Results.Json(await StatusAsync(host, runtime, timeout)); }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return Results.Json(new ErrorDto("timeout", "the node's actors did not answer in time"), statusCode: 503);
            }
        });

        app.MapPost("/admin/faults", async (HttpRequest request) =>
        {
            var (body, readError) = await JsonBody.ReadTextAsync(request, FaultSpecJson.BodyBytesMax);
            if (readError is not null) return readError;
            var (spec, error) = FaultSpecJson.Parse(body!, host.Node.Nodes);
            if (spec is null) return Results.Json(new ErrorDto(error!), statusCode: 400);
            return await ApplyAsync(host, spec, timeout);
        });

        app.MapDelete("/admin/faults", () => ApplyAsync(host, Core.Network.FaultSpec.None, timeout));

        KvHttpApi.Map(app, host);
        PaxosHttpApi.Map(app, host);
        ApHttpApi.Map(app, host);
        TxnHttpApi.Map(app, host);
        ElectionHttpApi.Map(app, host);
        AdminHttpApi.Map(app, host);
        LogsHttpApi.Map(app, host);
        Dashboard.DashboardHttpApi.MapNode(app, host);
        app.MapFallback(HttpGuards.NotFoundOrMethodNotAllowed);
        return app;
    }

    private static async Task<IResult> ApplyAsync(NodeHost host, Core.Network.FaultSpec spec, TimeSpan timeout)
    {
        try
        {
            return await host.ApplyFaultsAsync(spec, timeout) switch
            {
                NetworkProtocol.FaultsApplied applied => Results.Json(FaultSpecDto.From(applied.Spec)),
                // Accepted, not yet in force: the node is restarting its actor system and installs the spec when it is back.
                FaultsPending pending => Results.Json(FaultSpecDto.From(pending.Spec), statusCode: 202),
                NetworkProtocol.FaultsRejected rejected => Results.Json(new ErrorDto(string.Join("; ", rejected.Errors)), statusCode: 400),
                var other => Results.Json(new ErrorDto($"unexpected answer {other.GetType().Name}"), statusCode: 500),
            };
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
        {
            return Results.Json(new ErrorDto("unavailable", e.Message), statusCode: 503);
        }
    }

    /// <summary>
    /// <c>/status</c>: the node's identity and Akka.Cluster's membership view, then one field per module of
    /// <see cref="NodeModuleApis.All"/> (null when that module is not running), then the process's memory. Read by
    /// clients as <see cref="StatusDto"/>.
    /// </summary>
    private static async Task<Dictionary<string, object?>> StatusAsync(NodeHost host, DistSysNodeRuntime runtime, TimeSpan timeout)
    {
        var asks = new ModuleAsks(runtime, timeout);
        var parts = NodeModuleApis.All.Select(api => (api.StatusField, Value: api.StatusAsync(asks))).ToList();
        var cluster = Cluster.Get(runtime.System);
        var state = cluster.State;
        var members = state.Members
            .Select(m => new MemberDto(NodeIdOf(m), m.Address.ToString(), m.Status.ToString(), !state.Unreachable.Contains(m), Actors.Network.NodeRoles.HttpUrlOf(m)))
            .OrderBy(m => m.NodeId ?? int.MaxValue).ThenBy(m => m.Address, StringComparer.Ordinal)
            .ToList();
        var status = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["nodeId"] = runtime.Node.Id,
            ["address"] = cluster.SelfAddress.ToString(),
            ["nodes"] = runtime.Node.Nodes,
            ["restarts"] = host.Restarts,
            ["selfStatus"] = cluster.SelfMember.Status.ToString(),
            ["members"] = members,
        };
        foreach (var (field, value) in parts) status[field] = await value;
        status["process"] = ProcessDto.Read();
        return status;
    }

    /// <summary>A member's node id comes from its role <c>node-I</c>.</summary>
    public static int? NodeIdOf(Member member) => Actors.Network.NodeRoles.IdOf(member);
}
