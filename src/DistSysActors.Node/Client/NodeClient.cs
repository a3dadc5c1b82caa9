using System.Net.Http.Json;
using System.Text.Json;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Client;

/// <summary>Talks to one node's HTTP API on loopback.</summary>
public sealed class NodeClient(int nodeId, int httpPort, string hostname = "127.0.0.1") : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://{hostname}:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };

    public int NodeId { get; } = nodeId;
    public Uri BaseAddress => _http.BaseAddress!;

    public async Task<StatusDto> StatusAsync(CancellationToken ct = default) =>
        await _http.GetFromJsonAsync<StatusDto>("/status", Json, ct) ?? throw new InvalidOperationException("empty /status answer");

    public async Task<(bool Ready, string Body)> ReadyAsync(CancellationToken ct = default)
    {
        using var response = await _http.GetAsync("/health/ready", ct);
        return (response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    public Task<HttpResponseMessage> PostFaultsAsync(FaultSpecDto spec, CancellationToken ct = default) =>
        _http.PostAsJsonAsync("/admin/faults", spec, Json, ct);

    public Task<HttpResponseMessage> HealAsync(CancellationToken ct = default) => _http.DeleteAsync("/admin/faults", ct);

    public async Task<(int Code, string Body)> SendAsync(HttpMethod method, string path, HttpContent? content = null, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await _http.SendAsync(request, ct);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    public void Dispose() => _http.Dispose();
}
