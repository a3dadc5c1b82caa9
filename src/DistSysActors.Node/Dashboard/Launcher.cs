using System.Text;
using System.Text.Json.Nodes;
using DistSysActors.Node.Local;
using Microsoft.AspNetCore.Http;

namespace DistSysActors.Node.Dashboard;

/// <summary>
/// Kill and restart of node processes, which only the `distsys local` launcher can do (it owns them), and the tour's
/// narration the page shows. A node's page reaches the launcher through <see cref="EnvironmentVariable"/>, which the
/// launcher gives its children; a node started otherwise shows the controls disabled, with <see cref="Absent"/>'s reason.
/// </summary>
public interface ILauncher
{
    /// <summary><c>{available, reason?, url?, processes: [{id, pid, running}], narration: [...]}</c></summary>
    Task<JsonNode> StateAsync(CancellationToken ct);
    Task<IResult> ControlAsync(int id, string action, CancellationToken ct);
    Task<IResult> NarrateAsync(string body, CancellationToken ct);
}

public static class Launchers
{
    /// <summary>The launcher's dashboard URL, set by `distsys local` in each node's environment.</summary>
    public const string EnvironmentVariable = "DISTSYS_LAUNCHER_URL";

    /// <summary>The launcher a node's page uses: the one named in its environment, or none.</summary>
    public static ILauncher ForNode() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } url && Uri.TryCreate(url, UriKind.Absolute, out var uri)
            ? new RemoteLauncher(uri)
            : new Absent("this node was not started by `distsys local`, which owns the node processes: kill and restart work from a page of a cluster it started");
}

/// <summary>No launcher: the controls are shown disabled with <paramref name="Reason"/>.</summary>
public sealed record Absent(string Reason) : ILauncher
{
    public Task<JsonNode> StateAsync(CancellationToken ct) => Task.FromResult<JsonNode>(new JsonObject { ["available"] = false, ["reason"] = Reason });
    public Task<IResult> ControlAsync(int id, string action, CancellationToken ct) => Task.FromResult(DashboardControls.Answer(false, $"cannot {action} node {id}: {Reason}", 409));
    public Task<IResult> NarrateAsync(string body, CancellationToken ct) => Task.FromResult(DashboardControls.Answer(false, Reason, 409));
}

/// <summary>The launcher seen from one of its nodes: every call is passed on to its dashboard endpoint.</summary>
public sealed class RemoteLauncher(Uri url) : ILauncher
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(15) };

    public async Task<JsonNode> StateAsync(CancellationToken ct)
    {
        try
        {
            // A pooled connection the launcher closed fails once; a second attempt opens a new one.
            try { return await AskStateAsync(ct); }
            catch (HttpRequestException) { return await AskStateAsync(ct); }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return new JsonObject { ["available"] = false, ["url"] = url.ToString(), ["reason"] = $"the `distsys local` launcher at {url} does not answer ({e.GetBaseException().Message})" };
        }
    }

    private async Task<JsonNode> AskStateAsync(CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(ClusterViewSource.RequestTimeoutMs);
        var state = JsonNode.Parse(await Http.GetStringAsync(new Uri(url, "/dashboard/launcher"), cts.Token))!;
        state["url"] = url.ToString();
        return state;
    }

    public Task<IResult> ControlAsync(int id, string action, CancellationToken ct) => PostAsync($"/dashboard/nodes/{id}/{action}", "", $"{action} node {id}", ct);

    public Task<IResult> NarrateAsync(string body, CancellationToken ct) => PostAsync("/dashboard/narration", body, "narration", ct);

    private async Task<IResult> PostAsync(string path, string body, string what, CancellationToken ct)
    {
        try
        {
            using var response = await Http.PostAsync(new Uri(url, path), new StringContent(body, Encoding.UTF8, "application/json"), ct);
            return Results.Content(await response.Content.ReadAsStringAsync(ct), "application/json", Encoding.UTF8, (int)response.StatusCode);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return DashboardControls.Answer(false, $"{what}: the `distsys local` launcher at {url} does not answer ({e.GetBaseException().Message})", 502);
        }
    }
}

/// <summary>The launcher itself: it kills (SIGKILL, a crash) and restarts the nodes of its <see cref="LocalCluster"/>.</summary>
public sealed class LocalLauncher(LocalCluster cluster) : ILauncher
{
    public const int NarrationMax = 30;
    private readonly List<JsonObject> _narration = [];

    public Task<JsonNode> StateAsync(CancellationToken ct)
    {
        var processes = new JsonArray(cluster.Processes().Select(p => (JsonNode)new JsonObject
        {
            ["id"] = p.Id, ["pid"] = p.Pid, ["running"] = p.Running,
        }).ToArray());
        JsonArray narration;
        lock (_narration) narration = new JsonArray(_narration.Select(n => (JsonNode)n.DeepClone()).ToArray());
        return Task.FromResult<JsonNode>(new JsonObject { ["available"] = true, ["processes"] = processes, ["narration"] = narration });
    }

    public Task<IResult> ControlAsync(int id, string action, CancellationToken ct)
    {
        var (ok, message) = action switch
        {
            "kill" => cluster.TryKill(id),
            "restart" => cluster.TryRestart(id),
            _ => (false, $"unknown action '{action}' (kill or restart)"),
        };
        return Task.FromResult(DashboardControls.Answer(ok, message, ok ? 200 : 409));
    }

    /// <summary>A tour step: <c>{"topic", "step", "text", "state": "running"|"ok"|"failed"}</c>, kept (the newest few) for the page.</summary>
    public Task<IResult> NarrateAsync(string body, CancellationToken ct)
    {
        JsonObject step;
        try { step = JsonNode.Parse(body) as JsonObject ?? throw new FormatException("the body must be a JSON object"); }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException) { return Task.FromResult(DashboardControls.Answer(false, $"bad narration: {e.Message}", 400)); }
        if (step["text"]?.GetValueKind() != System.Text.Json.JsonValueKind.String)
            return Task.FromResult(DashboardControls.Answer(false, "bad narration: text (a string) is required", 400));
        step["atMs"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (_narration)
        {
            _narration.Add(step);
            if (_narration.Count > NarrationMax) _narration.RemoveAt(0);
        }
        return Task.FromResult(DashboardControls.Answer(true, "narration shown"));
    }
}
