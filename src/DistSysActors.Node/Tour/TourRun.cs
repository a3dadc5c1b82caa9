using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DistSysActors.Node.Client;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Tour;

/// <summary>A step's claim did not hold: the tour stops and says what it saw.</summary>
public sealed class TourFailure(string message) : Exception(message);

/// <summary>
/// What a tour scenario works with: the nodes' HTTP API, the launcher's kill and restart, and the narration — each step
/// printed in the terminal and shown on the dashboard, then checked against <c>/status</c> (never assumed).
/// </summary>
public sealed partial class TourRun(string topic, int nodes, int httpBasePort, Uri launcher, TextWriter output) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };
    private readonly Dictionary<int, NodeClient> _clients = Enumerable.Range(1, nodes).ToDictionary(i => i, i => new NodeClient(i, httpBasePort + i));
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _step;

    public int Nodes => nodes;
    public IEnumerable<int> Ids => Enumerable.Range(1, nodes);
    public NodeClient Client(int id) => _clients[id];

    /// <summary>How long the tour waits for a claim to come true (a loaded machine is slow; the cluster is fast).</summary>
    public TimeSpan ClaimTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Narrates one step, runs it, and reports it held (with the time it took) or fails the tour with why.</summary>
    public async Task<T> StepAsync<T>(string text, Func<Task<T>> run, Func<T, string>? result = null)
    {
        var n = ++_step;
        output.WriteLine($"[{topic} {n}] {text}");
        await NarrateAsync(n, text, "running");
        var started = _clock.ElapsedMilliseconds;
        try
        {
            var value = await run();
            var said = result?.Invoke(value) is { } r ? r : "ok";
            output.WriteLine($"    ✓ {said} ({_clock.ElapsedMilliseconds - started} ms)");
            await NarrateAsync(n, $"{text} — {said}", "ok");
            return value;
        }
        catch (TourFailure e)
        {
            output.WriteLine($"    ✗ FAILED: {e.Message}");
            await NarrateAsync(n, $"{text} — FAILED: {e.Message}", "failed");
            throw;
        }
    }

    public Task StepAsync(string text, Func<Task<string>> run) => StepAsync(text, run, s => s);

    private async Task NarrateAsync(int step, string text, string state)
    {
        try
        {
            using var _ = await _http.PostAsJsonAsync(new Uri(launcher, "/dashboard/narration"), new { topic, step, text, state }, Json);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
    }

    /// <summary>Each node's /status (null for a node that does not answer).</summary>
    public async Task<Dictionary<int, StatusDto?>> StatusesAsync()
    {
        var result = new Dictionary<int, StatusDto?>();
        foreach (var id in Ids)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                result[id] = await _clients[id].StatusAsync(cts.Token);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException) { result[id] = null; }
        }
        return result;
    }

    /// <summary>Polls until <paramref name="check"/> returns a value (the claim holds), or fails with the last thing it saw.</summary>
    public async Task<T> UntilAsync<T>(string claim, Func<Dictionary<int, StatusDto?>, (T? Value, string Seen)> check, TimeSpan? timeout = null) where T : struct
    {
        var deadline = DateTime.UtcNow + (timeout ?? ClaimTimeout);
        var seen = "nothing yet";
        while (DateTime.UtcNow < deadline)
        {
            var (value, s) = check(await StatusesAsync());
            seen = s;
            if (value is { } v) return v;
            await Task.Delay(200);
        }
        throw new TourFailure($"{claim} did not happen within {(timeout ?? ClaimTimeout).TotalSeconds:0} s; last seen: {seen}");
    }

    /// <summary>A step whose claim is read from every node's /status: narrated, awaited, reported as <paramref name="said"/>.</summary>
    public Task ClaimAsync(string text, Func<Dictionary<int, StatusDto?>, (bool Holds, string Seen)> check, string said, TimeSpan? timeout = null) =>
        StepAsync(text, async () =>
        {
            await UntilAsync<bool>(text, s => check(s) is var (holds, seen) && holds ? (true, "") : ((bool?)null, check(s).Seen), timeout);
            return said;
        });

    public static string Roles(Dictionary<int, StatusDto?> s) =>
        string.Join(", ", s.Select(kv => kv.Value is { Raft: { } r } ? $"node {kv.Key} {r.Role.ToLowerInvariant()} term {r.Term} leader {r.LeaderId?.ToString() ?? "none"}" : $"node {kv.Key} down"));

    public async Task<(int Code, string Body)> SendAsync(int id, HttpMethod method, string path, string? body = null)
    {
        try { return await _clients[id].SendAsync(method, path, body is null ? null : new StringContent(body, Encoding.UTF8, "text/plain")); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return (0, e.GetBaseException().Message); }
    }

    /// <summary>
    /// A request that should succeed, retried while a node answers 503 "not-applied" (certainly no effect: e.g. a new
    /// leader that cannot confirm reads until it commits in its term) or does not answer, until the claim timeout.
    /// </summary>
    public async Task<(int Code, string Body)> SucceedAsync(int id, HttpMethod method, string path, string? body = null)
    {
        var deadline = DateTime.UtcNow + ClaimTimeout;
        while (true)
        {
            var (code, text) = await SendAsync(id, method, path, body);
            var retry = code == 0 || (code == 503 && text.Contains("\"not-applied\"", StringComparison.Ordinal));
            if (!retry || DateTime.UtcNow > deadline) return (code, text);
            await Task.Delay(200);
        }
    }

    /// <summary>kill -9 or restart a node through the `distsys local` launcher that owns the processes.</summary>
    public async Task<string> LauncherAsync(int id, string action)
    {
        try
        {
            using var response = await _http.PostAsync(new Uri(launcher, $"/dashboard/nodes/{id}/{action}"), null);
            var answer = await response.Content.ReadAsStringAsync();
            var message = JsonDocument.Parse(answer).RootElement.GetProperty("message").GetString() ?? answer;
            if (!response.IsSuccessStatusCode) throw new TourFailure($"the launcher refused to {action} node {id}: {message}");
            return message;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            throw new TourFailure($"the launcher at {launcher} did not {action} node {id}: {e.Message}");
        }
    }

    /// <summary>Installs a fault spec on every node (a cluster-wide partition), through the dashboard's control.</summary>
    public async Task<string> FaultsAsync(object? spec)
    {
        using var response = spec is null
            ? await _http.DeleteAsync(new Uri(launcher, "/dashboard/faults"))
            : await _http.PostAsJsonAsync(new Uri(launcher, "/dashboard/faults"), spec, Json);
        var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("message").GetString()!;
        if (!response.IsSuccessStatusCode) throw new TourFailure(message);
        return message;
    }

    public void Dispose()
    {
        _http.Dispose();
        foreach (var c in _clients.Values) c.Dispose();
    }
}
