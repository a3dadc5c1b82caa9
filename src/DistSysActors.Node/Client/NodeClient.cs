using System.Net.Http.Json;
using System.Text.Json;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Client;

/// <summary>Talks to one node's HTTP API (on loopback unless told another host).</summary>
/// <param name="timeout">How long one request may take (default 10 s); admin changes wait for a learner to catch up.</param>
public sealed class NodeClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;

    public NodeClient(int nodeId, int httpPort, string hostname = "127.0.0.1", TimeSpan? timeout = null)
        : this(nodeId, new Uri($"http://{hostname}:{httpPort}"), timeout) { }

    /// <param name="baseAddress">The node's HTTP base address, e.g. http://10.0.0.2:8081.</param>
    /// <param name="tokens">The bearer token for an admin path (true) or another (false); default: the environment's.</param>
    public NodeClient(int nodeId, Uri baseAddress, TimeSpan? timeout = null, Func<bool, string?>? tokens = null)
    {
        NodeId = nodeId;
        _http = WithTokens(tokens, timeout ?? TimeSpan.FromSeconds(10));
        _http.BaseAddress = baseAddress;
    }

    /// <summary>An HTTP client for nodes that presents <paramref name="tokens"/> (see <see cref="BearerTokens"/>; default: the environment's).</summary>
    public static HttpClient WithTokens(Func<bool, string?>? tokens, TimeSpan timeout) => new(new BearerTokens(tokens)) { Timeout = timeout };

    public int NodeId { get; }
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
        var (code, body, _) = await SendAsync(method, path, content, idempotencyKey: null, ct);
        return (code, body);
    }

    /// <summary>Sends a request, with an Idempotency-Key header when given; Replayed tells whether the answer was a stored one.</summary>
    public async Task<(int Code, string Body, bool Replayed)> SendAsync(HttpMethod method, string path, HttpContent? content, string? idempotencyKey, CancellationToken ct = default)
    {
        var answer = await ExchangeAsync(method, path, content, idempotencyKey, ct);
        return (answer.Code, answer.Body, answer.Replayed);
    }

    /// <summary>
    /// Like <see cref="SendAsync(HttpMethod, string, HttpContent?, string?, CancellationToken)"/>, also returning the
    /// X-Applied-Index header a GET /kv answer carries (null when absent).
    /// </summary>
    public async Task<(int Code, string Body, bool Replayed, long? AppliedIndex)> ExchangeAsync(HttpMethod method, string path, HttpContent? content,
        string? idempotencyKey, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await _http.SendAsync(request, ct);
        var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Contains("true");
        long? applied = response.Headers.TryGetValues(KvHttpApi.AppliedIndexHeader, out var a)
            && long.TryParse(a.FirstOrDefault(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct), replayed, applied);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// Presents the tokens a guarded node asks for (README: Security): <paramref name="tokenFor"/> gives the token for
    /// an admin path (true) or any other (false). By default the same environment variables the node reads:
    /// DISTSYS_ADMIN_TOKEN for /admin/*, DISTSYS_KV_TOKEN for the rest.
    /// </summary>
    public sealed class BearerTokens(Func<bool, string?>? tokenFor = null) : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly Func<bool, string?> _tokenFor = tokenFor
            ?? (admin => Environment.GetEnvironmentVariable(admin ? HttpSettings.AdminTokenVariable : HttpSettings.KvTokenVariable));

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var path = request.RequestUri?.AbsolutePath ?? "";
            // The dashboard's controls are admin endpoints too (HttpGuards.Authorize).
            var admin = path.StartsWith("/admin", StringComparison.Ordinal)
                || (path.StartsWith("/dashboard/", StringComparison.Ordinal) && request.Method != HttpMethod.Get && request.Method != HttpMethod.Head);
            var token = _tokenFor(admin);
            if (!string.IsNullOrEmpty(token) && request.Headers.Authorization is null)
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            return base.SendAsync(request, ct);
        }
    }
}
