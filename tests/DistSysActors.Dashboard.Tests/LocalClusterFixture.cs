namespace DistSysActors.Dashboard.Tests;

/// <summary>One `distsys local` cluster of 3 nodes shared by this assembly's tests (each leaves it whole: healed, every node running).</summary>
public sealed class LocalClusterFixture : IAsyncLifetime
{
    public LocalLauncherProcess Local { get; private set; } = null!;

    /// <summary>The one URL `distsys local` printed: its dashboard.</summary>
    public string DashboardUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Local = new LocalLauncherProcess(3);
        var line = await Local.AwaitLineAsync(l => l.StartsWith("dashboard: ", StringComparison.Ordinal), TimeSpan.FromSeconds(120), "the dashboard URL");
        DashboardUrl = line["dashboard: ".Length..];
    }

    public async Task DisposeAsync() => await Local.DisposeAsync();

    /// <summary>
    /// Waits until every node is ready (/health/ready 200: an Up member that knows a leader and reaches a quorum) and sees
    /// every node Up and reachable: the state each test starts from, whatever the test before it broke and healed.
    /// </summary>
    public async Task AwaitWholeAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + LocalLauncherProcess.Scaled(TimeSpan.FromSeconds(90));
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            var whole = true;
            foreach (var id in new[] { 1, 2, 3 })
            {
                try
                {
                    using var ready = await http.GetAsync($"http://127.0.0.1:{Local.HttpBasePort + id}/health/ready");
                    var status = await http.GetStringAsync($"http://127.0.0.1:{Local.HttpBasePort + id}/status");
                    var members = System.Text.Json.JsonDocument.Parse(status).RootElement.GetProperty("members").EnumerateArray()
                        .Count(m => m.GetProperty("status").GetString() == "Up" && m.GetProperty("reachable").GetBoolean());
                    if (!ready.IsSuccessStatusCode || members != 3) { whole = false; seen = $"node {id}: ready {(int)ready.StatusCode}, {members} Up and reachable"; }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
                {
                    whole = false;
                    seen = $"node {id}: {e.Message}";
                }
            }
            if (whole) return;
            await Task.Delay(250);
        }
        throw new Xunit.Sdk.XunitException($"the shared cluster did not become whole again; last seen {seen}\n{Local.Output}");
    }
}

[CollectionDefinition(Name)]
public sealed class LocalClusterCollection : ICollectionFixture<LocalClusterFixture>
{
    public const string Name = "one distsys local cluster";
}
