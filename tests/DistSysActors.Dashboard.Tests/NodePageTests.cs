using System.Net;
using System.Text.Json;
using DistSysActors.Node.Dashboard;

namespace DistSysActors.Dashboard.Tests;

/// <summary>
/// Every node serves the same page and view as the launcher; kill and restart from a node's page go to the launcher
/// that started it (and a node started otherwise has them off, saying why); a node's network component reports its
/// sampled messages for the timeline.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class NodePageTests(LocalClusterFixture cluster)
{
    [Fact]
    public async Task A_node_serves_the_page_and_the_cluster_view_and_passes_kill_and_restart_to_its_launcher()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var node2 = $"http://127.0.0.1:{cluster.Local.HttpBasePort + 2}";
        Assert.Contains("<title>DistSysActors dashboard</title>", await http.GetStringAsync(node2 + "/"));
        Assert.Contains("field: 'raft'", await http.GetStringAsync(node2 + "/dashboard/panels.js"));

        await cluster.AwaitWholeAsync();
        // The view the page reads: its launcher part comes from the launcher (asked at each poll; a poll may miss it).
        var view = JsonDocument.Parse(await http.GetStringAsync(node2 + "/dashboard/view")).RootElement;
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10); !view.GetProperty("launcher").GetProperty("available").GetBoolean() && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(400);
            view = JsonDocument.Parse(await http.GetStringAsync(node2 + "/dashboard/view")).RootElement;
        }
        Assert.Equal("node 2", view.GetProperty("servedBy").GetString());
        Assert.Equal([1, 2, 3], view.GetProperty("cluster").EnumerateArray().Select(n => n.GetProperty("id").GetInt32()));
        var launcher = view.GetProperty("launcher");
        Assert.True(launcher.GetProperty("available").GetBoolean(), launcher.ToString());
        Assert.Equal(cluster.DashboardUrl, launcher.GetProperty("url").GetString());

        // Passed on to the launcher, which refuses a node it did not start, and says so; nothing is killed.
        using var refused = await http.PostAsync(node2 + "/dashboard/nodes/9/kill", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("node 9 is not one of the nodes this launcher started", await refused.Content.ReadAsStringAsync());

        var messages = JsonDocument.Parse(await http.GetStringAsync(node2 + "/dashboard/messages?after=0")).RootElement.GetProperty("messages");
        var first = messages.EnumerateArray().First();
        Assert.Equal(2, first.GetProperty("from").GetInt32());
        Assert.True(first.GetProperty("count").GetInt32() >= 1);
        Assert.False(string.IsNullOrEmpty(first.GetProperty("kind").GetString()));
    }

    [Fact]
    public async Task A_node_not_started_by_the_launcher_shows_kill_and_restart_off_with_the_reason()
    {
        Assert.Null(Environment.GetEnvironmentVariable(Launchers.EnvironmentVariable));
        var state = await Launchers.ForNode().StateAsync(CancellationToken.None);
        Assert.False(state["available"]!.GetValue<bool>());
        Assert.Contains("not started by `distsys local`", state["reason"]!.GetValue<string>());
    }
}
