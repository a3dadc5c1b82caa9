using DistSysActors.Node.Dashboard;

namespace DistSysActors.Node.Local;

/// <summary>`distsys local`'s dashboard: served by the launcher when its port is free, else node 1's page is the URL.</summary>
internal sealed class LocalDashboard : IAsyncDisposable
{
    private LauncherDashboard? _served;

    /// <summary>The one URL `local` prints.</summary>
    public string Url { get; private init; } = "";

    public static async Task<LocalDashboard> StartAsync(LocalCluster cluster, int port)
    {
        var nodeOne = $"http://127.0.0.1:{cluster.HttpBasePort + 1}/";
        if (port == 0) return new LocalDashboard { Url = nodeOne + " (node 1's page; kill and restart need the launcher's dashboard: --dashboard-port)" };
        var (served, error) = await LauncherDashboard.StartAsync(cluster, "127.0.0.1", port, new LocalLauncher(cluster));
        if (served is null)
        {
            Console.WriteLine($"the dashboard cannot listen on port {port} ({error}); node 1 serves the page, without kill and restart");
            return new LocalDashboard { Url = nodeOne };
        }
        cluster.LauncherUrl = served.Url;
        return new LocalDashboard { _served = served, Url = served.Url };
    }

    public async ValueTask DisposeAsync()
    {
        if (_served is not null) await _served.DisposeAsync();
    }
}
