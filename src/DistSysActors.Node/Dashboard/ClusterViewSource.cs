using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistSysActors.Node.Dashboard;

/// <summary>
/// The dashboard's live picture of the cluster: every <see cref="PollIntervalMs"/> it asks each node of the port plan
/// for <c>/status</c> and its newly sampled messages, in parallel and with a short timeout, so a dead or hung node shows
/// as down instead of stalling the view. Runs while someone watches: it starts on the first request and stops after
/// <see cref="IdleStopMs"/> without one. Node statuses are passed through as JSON, so a protocol that adds a field to
/// <c>/status</c> reaches the page without a change here.
/// </summary>
public sealed class ClusterViewSource : IAsyncDisposable
{
    public const int PollIntervalMs = 400;
    public const int RequestTimeoutMs = 1500;
    public const int IdleStopMs = 60_000;
    public const int TimelineMax = 600;

    private readonly DashboardTopology _topology;
    private readonly Func<CancellationToken, Task<JsonNode>> _launcher;
    private readonly HttpClient _http;
    private readonly object _gate = new();
    private readonly Dictionary<int, long> _lastSeq = new();
    private readonly Dictionary<int, NodeState> _nodes = new();
    private readonly List<JsonObject> _timeline = [];
    private CancellationTokenSource? _loop;
    private long _lastAskedTicks;
    private string _latest = "{}";
    private long _version;

    /// <param name="launcher">The launcher's state as the page shows it (kill/restart available or why not, tour narration).</param>
    public ClusterViewSource(DashboardTopology topology, Func<CancellationToken, Task<JsonNode>> launcher)
    {
        _topology = topology;
        _launcher = launcher;
        _http = topology.NewClient(TimeSpan.FromMilliseconds(RequestTimeoutMs));
    }

    private sealed class NodeState
    {
        public JsonNode? Status;
        public string? Error;
        public DateTimeOffset? LastOk;
    }

    /// <summary>The newest view (JSON) and its version; starts the polling if it is not running.</summary>
    public async Task<(string Json, long Version)> LatestAsync(CancellationToken ct)
    {
        Interlocked.Exchange(ref _lastAskedTicks, Environment.TickCount64);
        Task? first = null;
        lock (_gate)
        {
            if (_loop is null)
            {
                _loop = new CancellationTokenSource();
                first = PollOnceAsync(_loop.Token);
                _ = RunAsync(first, _loop.Token);
            }
        }
        if (first is not null) await first.WaitAsync(ct);
        lock (_gate) return (_latest, _version);
    }

    private async Task RunAsync(Task first, CancellationToken ct)
    {
        try
        {
            await first;
            // A fixed rate: a slow round (a hung node's timeout) shortens the wait before the next, never adds to it.
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(PollIntervalMs));
            while (await timer.WaitForNextTickAsync(ct))
            {
                if (Environment.TickCount64 - Interlocked.Read(ref _lastAskedTicks) > IdleStopMs) break;
                await PollOnceAsync(ct);
            }
        }
        catch (OperationCanceledException) { }
        lock (_gate) _loop = null;
    }

    private IReadOnlyList<int> NodeIds()
    {
        // The port plan's nodes, and any server a node's membership names beyond them (added with `members add`).
        var ids = new SortedSet<int>(Enumerable.Range(1, _topology.Nodes));
        foreach (var s in _nodes.Values.Select(n => n.Status).OfType<JsonObject>())
        {
            if (s["members"] is JsonArray members)
                foreach (var m in members)
                    if (m?["nodeId"] is JsonValue v && v.TryGetValue<int>(out var id) && id is >= 1 and <= 99) ids.Add(id);
            if (s["raft"]?["voters"] is JsonArray voters)
                foreach (var v in voters)
                    if (v is JsonValue jv && jv.TryGetValue<int>(out var id) && id is >= 1 and <= 99) ids.Add(id);
        }
        return ids.ToList();
    }

    private async Task PollOnceAsync(CancellationToken ct)
    {
        IReadOnlyList<int> ids;
        lock (_gate) ids = NodeIds();
        var asks = ids.Select(id => PollNodeAsync(id, ct)).ToList();
        var launcher = _launcher(ct);
        await Task.WhenAll(asks);
        JsonNode launcherState;
        try { launcherState = await launcher; }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            launcherState = new JsonObject { ["available"] = false, ["reason"] = e.Message };
        }
        lock (_gate)
        {
            var nodes = new JsonArray();
            foreach (var id in ids)
            {
                var n = _nodes.GetValueOrDefault(id) ?? new NodeState();
                nodes.Add(new JsonObject
                {
                    ["id"] = id,
                    ["url"] = _topology.TryNodeUrl(id),
                    ["up"] = n.Error is null && n.Status is not null,
                    ["error"] = n.Error,
                    ["lastOkAgoMs"] = n.LastOk is { } t ? (long)(DateTimeOffset.UtcNow - t).TotalMilliseconds : null,
                    ["status"] = n.Error is null ? n.Status?.DeepClone() : null,
                });
            }
            var view = new JsonObject
            {
                ["servedBy"] = _topology.ServedBy,
                ["nodes"] = _topology.Nodes,
                ["atMs"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                ["pollIntervalMs"] = PollIntervalMs,
                ["launcher"] = launcherState,
                ["cluster"] = nodes,
                ["timeline"] = new JsonArray(_timeline.Select(t => (JsonNode)t.DeepClone()).ToArray()),
            };
            _latest = view.ToJsonString();
            _version++;
        }
    }

    private async Task PollNodeAsync(int id, CancellationToken ct)
    {
        JsonNode? status = null;
        string? error = null;
        try
        {
            using var response = await _http.GetAsync($"{_topology.NodeUrl(id)}/status", ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode) status = JsonNode.Parse(body);
            else error = $"/status answered {(int)response.StatusCode}: {Shorten(body)}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            if (ct.IsCancellationRequested) return;
            error = e is TaskCanceledException ? $"no answer within {RequestTimeoutMs} ms" : Shorten(e.GetBaseException().Message);
        }
        var samples = status is null ? null : await MessagesAsync(id, ct);
        lock (_gate)
        {
            var state = _nodes.TryGetValue(id, out var s) ? s : _nodes[id] = new NodeState();
            state.Error = error;
            if (status is not null) { state.Status = status; state.LastOk = DateTimeOffset.UtcNow; }
            if (samples is not null) Merge(id, samples);
        }
    }

    private async Task<JsonObject?> MessagesAsync(int id, CancellationToken ct)
    {
        long after;
        lock (_gate) after = _lastSeq.GetValueOrDefault(id);
        try
        {
            using var response = await _http.GetAsync($"{_topology.NodeUrl(id)}/dashboard/messages?after={after}", ct);
            return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) as JsonObject : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException) { return null; }
    }

    private void Merge(int id, JsonObject answer)
    {
        if (answer["messages"] is not JsonArray messages) return;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var last = _lastSeq.GetValueOrDefault(id);
        // A restarted node numbers its samples from 1 again.
        if (answer["lastSeq"]?.GetValue<long>() is { } newest && newest < last) last = 0;
        foreach (var m in messages.OfType<JsonObject>())
        {
            var seq = m["seq"]!.GetValue<long>();
            if (seq <= last) continue;
            last = seq;
            var copy = (JsonObject)m.DeepClone();
            copy["atMs"] = now - m["ageMs"]!.GetValue<long>();
            copy.Remove("ageMs");
            _timeline.Add(copy);
        }
        _lastSeq[id] = last;
        _timeline.Sort((a, b) => a["atMs"]!.GetValue<long>().CompareTo(b["atMs"]!.GetValue<long>()));
        if (_timeline.Count > TimelineMax) _timeline.RemoveRange(0, _timeline.Count - TimelineMax);
    }

    private static string Shorten(string s) => s.Length <= 200 ? s : s[..200] + "...";

    public async ValueTask DisposeAsync()
    {
        CancellationTokenSource? loop;
        lock (_gate) loop = _loop;
        if (loop is not null) await loop.CancelAsync();
        _http.Dispose();
    }
}

/// <summary>
/// Where the dashboard finds the nodes and who serves the page: the port plan (hostname, http-base-port + id), or, when
/// served by a node, <paramref name="Resolve"/>: the address each node carries in the cluster membership (null when not
/// known). <paramref name="Tokens"/> gives the bearer token for an admin path (true) or another (false); by default the
/// environment's.
/// </summary>
public sealed record DashboardTopology(string Hostname, int HttpBasePort, int Nodes, string ServedBy,
    Func<int, string?>? Resolve = null, Func<bool, string?>? Tokens = null)
{
    /// <summary>Node <paramref name="id"/>'s HTTP base address, or null when it is not known.</summary>
    public string? TryNodeUrl(int id) => Resolve is null ? $"http://{Hostname}:{HttpBasePort + id}" : Resolve(id);

    /// <summary>Node <paramref name="id"/>'s HTTP base address; an unknown one fails as a request to it would.</summary>
    public string NodeUrl(int id) =>
        TryNodeUrl(id) ?? throw new HttpRequestException($"node {id}'s HTTP address is not known: it is not a cluster member now");

    /// <summary>A client for the nodes that presents the tokens.</summary>
    public HttpClient NewClient(TimeSpan timeout) => Client.NodeClient.WithTokens(Tokens, timeout);
}
