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
}

[CollectionDefinition(Name)]
public sealed class LocalClusterCollection : ICollectionFixture<LocalClusterFixture>
{
    public const string Name = "one distsys local cluster";
}
