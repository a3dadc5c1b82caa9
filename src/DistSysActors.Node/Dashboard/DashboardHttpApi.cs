using System.Reflection;
using System.Text;
using Akka.Actor;
using DistSysActors.Actors.Modules;
using DistSysActors.Actors.Network;
using DistSysActors.Node.Hosting;
using DistSysActors.Node.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Dashboard;

/// <summary>
/// The dashboard's HTTP surface (docs/dashboard.md), served the same by every node and by the `distsys local` launcher:
/// the page at <c>/</c> (files embedded in the executable), the live cluster view (<c>/dashboard/view</c> once,
/// <c>/dashboard/events</c> as server-sent events) and the controls under <c>/dashboard/</c>.
/// </summary>
public static class DashboardHttpApi
{
    /// <summary>How often the event stream sends the view (at least twice a second).</summary>
    public const int PushIntervalMs = ClusterViewSource.PollIntervalMs;

    private const string ResourcePrefix = "dashboard/";

    /// <summary>A node's part: the shared surface plus <c>/dashboard/messages</c>, its network component's sampled messages.</summary>
    public static void MapNode(WebApplication app, NodeHost host)
    {
        var topology = new DashboardTopology(host.Node.Hostname, host.Node.HttpBasePort, host.Node.Nodes, $"node {host.Node.Id}",
            Resolve: id => PeerHttp.UrlOf(host, id), Tokens: PeerHttp.Tokens(host.HttpSettings));
        Map(app, topology, Launchers.ForNode());
        var timeout = TimeSpan.FromMilliseconds(host.Settings.RequestTimeoutMs);
        app.MapGet("/dashboard/messages", async (long? after) =>
        {
            if (host.Runtime?.Module(new NetworkModule().Name) is not { } network)
                return Results.Json(new { error = "the network component is not running" }, statusCode: 503);
            try
            {
                var recent = await network.Ask<NetworkProtocol.RecentMessages>(new NetworkProtocol.GetRecentMessages(Math.Max(0, after ?? 0)), timeout);
                return Results.Json(new
                {
                    lastSeq = recent.Samples.Count > 0 ? recent.Samples[^1].Seq : (long?)null,
                    messages = recent.Samples.Select(m => new
                    {
                        seq = m.Seq, ageMs = recent.NowMs - m.AtMs, from = m.From.Value, to = m.To.Value, service = m.Service,
                        kind = m.Kind, outcome = m.Outcome.ToString().ToLowerInvariant(), count = m.Count,
                    }),
                });
            }
            catch (AskTimeoutException) { return Results.Json(new { error = "the network component did not answer in time" }, statusCode: 503); }
        });
    }

    /// <summary>The surface every server of the page has.</summary>
    public static void Map(WebApplication app, DashboardTopology topology, ILauncher launcher)
    {
        var view = new ClusterViewSource(topology, launcher.StateAsync);
        var controls = new DashboardControls(topology);
        app.Lifetime.ApplicationStopping.Register(() => { _ = view.DisposeAsync(); controls.Dispose(); });

        app.MapGet("/", () => Asset("index.html"));
        app.MapGet("/dashboard/{**file}", (string file) => Asset(file));
        app.MapGet("/dashboard/view", async (CancellationToken ct) => Results.Content((await view.LatestAsync(ct)).Json, "application/json"));
        app.MapGet("/dashboard/events", async (HttpContext http, CancellationToken aborted) =>
        {
            // An open page must not hold up the server's shutdown (a graceful stop waits for requests in flight).
            using var stream = CancellationTokenSource.CreateLinkedTokenSource(aborted, app.Lifetime.ApplicationStopping);
            var ct = stream.Token;
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            long sent = -1;
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    var (json, version) = await view.LatestAsync(ct);
                    if (version != sent)
                    {
                        await http.Response.WriteAsync($"data: {json}\n\n", ct);
                        await http.Response.Body.FlushAsync(ct);
                        sent = version;
                    }
                    await Task.Delay(PushIntervalMs / 2, ct);
                }
            }
            catch (OperationCanceledException) { }
        });
        app.MapGet("/dashboard/launcher", (CancellationToken ct) => launcher.StateAsync(ct));
        app.MapPost("/dashboard/nodes/{id:int}/{action}", (int id, string action, CancellationToken ct) => launcher.ControlAsync(id, action, ct));
        app.MapPost("/dashboard/narration", async (HttpRequest request, CancellationToken ct) => await launcher.NarrateAsync(await ReadAsync(request), ct));
        app.MapPost("/dashboard/faults", async (HttpRequest request, CancellationToken ct) => await controls.FaultsAsync(await ReadAsync(request), ct));
        app.MapDelete("/dashboard/faults", (CancellationToken ct) => controls.HealAsync(ct));
        app.MapPut("/dashboard/kv/{key}", async (string key, HttpRequest request, CancellationToken ct) =>
            await controls.ForwardAsync(HttpMethod.Put, $"/kv/{Uri.EscapeDataString(key)}", await ReadAsync(request), $"write {key}", null, ct));
        app.MapGet("/dashboard/kv/{key}", (string key, string? consistency, CancellationToken ct) =>
            controls.ForwardAsync(HttpMethod.Get, $"/kv/{Uri.EscapeDataString(key)}" + (consistency is { Length: > 0 } c ? $"?consistency={Uri.EscapeDataString(c)}" : ""),
                null, $"read {key}" + (consistency is { Length: > 0 } ? $" ({consistency})" : ""), null, ct));
        app.MapPost("/dashboard/transfer", async (HttpRequest request, CancellationToken ct) =>
            await controls.ForwardAsync(HttpMethod.Post, "/admin/raft/transfer", await ReadAsync(request), "leadership transfer", null, ct));
        DashboardProtocolApi.Map(app, topology, controls);
    }

    private static async Task<string> ReadAsync(HttpRequest request)
    {
        if (request.ContentLength > Http.AdminHttpApi.BodyBytesMax) return "";
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    private static IResult Asset(string file)
    {
        var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourcePrefix + file);
        if (stream is null) return Results.Json(new { error = $"no dashboard file '{file}'" }, statusCode: 404);
        var type = Path.GetExtension(file) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".png" => "image/png",
            ".svg" => "image/svg+xml",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }
}
