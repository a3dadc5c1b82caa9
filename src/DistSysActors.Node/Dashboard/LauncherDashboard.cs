using DistSysActors.Node.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DistSysActors.Node.Dashboard;

/// <summary>
/// The dashboard served by `distsys local` itself, on the port below node 1's (http-base-port + 0, free in the port
/// plan): the same page as every node's, with kill and restart enabled, and still there while any node is down.
/// </summary>
public sealed class LauncherDashboard : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LauncherDashboard(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    /// <summary>Starts it on <paramref name="port"/>; returns null with the reason when the port cannot be bound.</summary>
    public static async Task<(LauncherDashboard? Dashboard, string? Error)> StartAsync(LocalCluster cluster, string hostname, int port, LocalLauncher launcher)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Parse(hostname), port));
        var app = builder.Build();
        DashboardHttpApi.Map(app, new DashboardTopology(hostname, cluster.HttpBasePort, cluster.NodeCount, "launcher"), launcher);
        app.MapFallback(() => Results.Json(new { error = "not found: the launcher serves the dashboard only; the HTTP API is on each node" }, statusCode: 404));
        try { await app.StartAsync(); }
        catch (IOException e)
        {
            await app.DisposeAsync();
            return (null, e.Message);
        }
        return (new LauncherDashboard(app, $"http://{hostname}:{port}/"), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
