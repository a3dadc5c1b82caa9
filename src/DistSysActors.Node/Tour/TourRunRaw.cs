using System.Text;
using System.Text.Json;

namespace DistSysActors.Node.Tour;

/// <summary>
/// Claims read from <c>/status</c> fields the typed status does not carry (transactions, gossip, the AP store,
/// elections): each node's <c>/status</c> as JSON, read defensively, since protocols add fields over time.
/// </summary>
public sealed partial class TourRun
{
    /// <summary>Each node's /status as JSON (null for a node that does not answer).</summary>
    public async Task<Dictionary<int, JsonElement?>> RawStatusesAsync()
    {
        var result = new Dictionary<int, JsonElement?>();
        foreach (var id in Ids)
        {
            var (code, body) = await SendAsync(id, HttpMethod.Get, "/status");
            try { result[id] = code == 200 ? JsonDocument.Parse(body).RootElement.Clone() : null; }
            catch (JsonException) { result[id] = null; }
        }
        return result;
    }

    /// <summary>Polls every node's raw /status until <paramref name="check"/> returns a value, or fails with the last thing it saw.</summary>
    public async Task<T> UntilRawAsync<T>(string claim, Func<Dictionary<int, JsonElement?>, (T? Value, string Seen)> check, TimeSpan? timeout = null) where T : struct
    {
        var deadline = DateTime.UtcNow + (timeout ?? ClaimTimeout);
        var seen = "nothing yet";
        while (DateTime.UtcNow < deadline)
        {
            var (value, s) = check(await RawStatusesAsync());
            seen = s;
            if (value is { } v) return v;
            await Task.Delay(200);
        }
        throw new TourFailure($"{claim} did not happen within {(timeout ?? ClaimTimeout).TotalSeconds:0} s; last seen: {seen}");
    }

    /// <summary>A step whose claim is read from every node's raw /status.</summary>
    public Task ClaimRawAsync(string text, Func<Dictionary<int, JsonElement?>, (bool Holds, string Seen)> check, string said, TimeSpan? timeout = null) =>
        StepAsync(text, async () =>
        {
            await UntilRawAsync<bool>(text, s => check(s) is var (holds, seen) && holds ? (true, "") : ((bool?)null, seen), timeout);
            return said;
        });

    /// <summary>A request with headers (Idempotency-Key, ...); answers the status, body and the response's headers.</summary>
    public async Task<(int Code, string Body, Dictionary<string, string> Headers)> SendWithHeadersAsync(
        int id, HttpMethod method, string path, string? body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, $"http://127.0.0.1:{httpBasePort + id}{path}");
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, path.StartsWith("/kv/", StringComparison.Ordinal) || path.StartsWith("/ap/", StringComparison.Ordinal) ? "text/plain" : "application/json");
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        try
        {
            using var response = await _http.SendAsync(request);
            var all = response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), all);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return (0, e.GetBaseException().Message, []); }
    }

    /// <summary>Removes the faults of the given nodes, whatever happens: a tour's clean-up after a failed step.</summary>
    public async Task HealQuietlyAsync(params int[] ids)
    {
        foreach (var id in ids) await SendWithHeadersAsync(id, HttpMethod.Delete, "/admin/faults", null);
    }

    /// <summary>Installs a fault spec (the /admin/faults JSON) on one node only, e.g. a delay on its links; null heals it.</summary>
    public async Task<string> NodeFaultsAsync(int id, string? json)
    {
        var (code, body, _) = json is null
            ? await SendWithHeadersAsync(id, HttpMethod.Delete, "/admin/faults", null)
            : await SendWithHeadersAsync(id, HttpMethod.Post, "/admin/faults", json);
        if (code is < 200 or >= 300) throw new TourFailure($"node {id} refused the fault spec: {code} {body}");
        return json is null ? $"node {id} healed" : $"node {id}: {json}";
    }
}
