using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace DistSysActors.Node.Http;

/// <summary>
/// What every request passes before an endpoint sees it: one JSON error shape for anything refused or failed
/// (<c>{"error": reason}</c>), the size bounds of <see cref="HttpSettings"/>, the bearer tokens, and 405 for a known
/// path asked with a method it does not serve.
/// </summary>
public static class HttpGuards
{
    public static void ConfigureKestrel(KestrelServerOptions k)
    {
        // Kestrel's own limits sit above ours: a request between the two is refused by the middleware below with a
        // JSON reason; only one beyond Kestrel's gets its bare status (it is refused before any middleware runs).
        k.Limits.MaxRequestLineSize = 2 * HttpSettings.UrlBytesMax;
        k.Limits.MaxRequestHeadersTotalSize = 2 * HttpSettings.HeadersBytesMax;
        k.Limits.MaxRequestHeaderCount = 2 * HttpSettings.HeaderCountMax;
        k.Limits.MaxRequestBodySize = HttpSettings.BodyBytesMax;
        k.Limits.MaxConcurrentConnections = HttpSettings.ConnectionsMax;
        k.Limits.MaxConcurrentUpgradedConnections = 0;
        k.AddServerHeader = false;
    }

    public static void Use(WebApplication app, HttpSettings settings, Action<string> log)
    {
        var limiter = ConnectionRateLimiter(settings.RequestsPerSecondPerConnection);
        if (limiter is not null) app.Lifetime.ApplicationStopped.Register(limiter.Dispose);
        app.Use(async (http, next) =>
        {
            try
            {
                using var lease = limiter?.AttemptAcquire(http);
                if (lease is { IsAcquired: false })
                {
                    http.Response.Headers.RetryAfter = "1";
                    await Error(429, $"more than {settings.RequestsPerSecondPerConnection} requests per second on this connection " +
                                     "(distsys.http.requests-per-second-per-connection); slow down or open another connection").ExecuteAsync(http);
                    return;
                }
                if (Refuse(http.Request, settings) is { } refusal) { await refusal.ExecuteAsync(http); return; }
                await next(http);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (!http.Response.HasStarted)
            {
                // Kestrel's refusals raised while an endpoint reads: a body over the limit, broken chunked framing, a stalled upload.
                await Error(e.StatusCode, $"bad request: {e.Message}").ExecuteAsync(http);
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested) { }
            catch (Exception e)
            {
                log($"HTTP {http.Request.Method} {http.Request.Path}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                if (!http.Response.HasStarted)
                    await Error(500, $"internal error ({e.GetType().Name}); the node logged it").ExecuteAsync(http);
            }
        });
    }

    /// <summary>
    /// A token bucket per connection: <paramref name="perSecond"/> requests a second, a burst of as many; null when 0
    /// (no bound). Kestrel bounds connections, sizes and upload rates, not requests per connection: this does.
    /// </summary>
    public static PartitionedRateLimiter<HttpContext>? ConnectionRateLimiter(int perSecond) =>
        perSecond <= 0 ? null : PartitionedRateLimiter.Create<HttpContext, string>(http => RateLimitPartition.GetTokenBucketLimiter(http.Connection.Id,
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perSecond,
                TokensPerPeriod = Math.Max(1, perSecond / 10),
                ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
                QueueLimit = 0,
                // The partitioned limiter replenishes its buckets from one timer, and drops the buckets of idle connections.
                AutoReplenishment = false,
            }));

    /// <summary>The answer that refuses a request before any endpoint runs, or null to let it through.</summary>
    public static IResult? Refuse(HttpRequest request, HttpSettings settings)
    {
        var target = request.Path.Value?.Length + request.QueryString.Value?.Length ?? 0;
        if (target > HttpSettings.UrlBytesMax) return Error(414, $"the request target exceeds {HttpSettings.UrlBytesMax} bytes");
        if (request.Headers.Count > HttpSettings.HeaderCountMax) return Error(431, $"more than {HttpSettings.HeaderCountMax} header fields");
        long headerBytes = 0;
        foreach (var (name, values) in request.Headers)
            foreach (var value in values) headerBytes += name.Length + (value?.Length ?? 0) + 4;
        if (headerBytes > HttpSettings.HeadersBytesMax) return Error(431, $"the header fields exceed {HttpSettings.HeadersBytesMax} bytes");
        return Authorize(request, settings);
    }

    /// <summary>
    /// /admin/* answers loopback, and other addresses only with the admin token; with a kv token every data endpoint
    /// needs it, from any address.
    /// Health checks and /status stay open to probes.
    /// </summary>
    public static IResult? Authorize(HttpRequest request, HttpSettings settings)
    {
        var path = request.Path;
        if (path.StartsWithSegments("/health") || path.StartsWithSegments("/status")) return null;
        // The dashboard's controls (kill, restart, faults, writes, transfer) act on the whole cluster through the nodes'
        // admin endpoints on loopback: they are admin endpoints themselves.
        if (path.StartsWithSegments("/admin") || (path.StartsWithSegments("/dashboard") && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)))
        {
            if (IsLoopback(request.HttpContext.Connection.RemoteIpAddress)) return null;
            if (settings.AdminToken is { } admin)
                return Bearer(request, admin) ? null : Unauthorized("the admin endpoints need \"Authorization: Bearer <distsys.http.admin-token>\" from other machines");
            return Error(403, "the admin endpoints answer only loopback; set distsys.http.admin-token (or DISTSYS_ADMIN_TOKEN) on the node to allow remote admin with a bearer token");
        }
        if (settings.KvToken is { } kv && !Bearer(request, kv))
            return Unauthorized("this node requires \"Authorization: Bearer <distsys.http.kv-token>\"");
        return null;
    }

    private static bool IsLoopback(IPAddress? address) =>
        address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    private static bool Bearer(HttpRequest request, string token)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(value[7..]), Encoding.UTF8.GetBytes(token));
    }

    private static IResult Unauthorized(string reason) => new WithHeader(Error(401, reason), "WWW-Authenticate", "Bearer");

    public static IResult Error(int status, string reason) => Results.Json(new ErrorDto(reason), statusCode: status);

    /// <summary>
    /// The fallback: 405 (with <c>Allow</c>) when the path is one an endpoint serves with other methods, 404 otherwise.
    /// </summary>
    public static IResult NotFoundOrMethodNotAllowed(HttpContext http)
    {
        var methods = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (matcher, allowed) in Routes.GetValue(http.RequestServices.GetRequiredService<EndpointDataSource>(), ParseRoutes))
            if (matcher.TryMatch(http.Request.Path, new RouteValueDictionary())) methods.UnionWith(allowed);
        if (methods.Count == 0) return Error(404, "not found");
        http.Response.Headers.Allow = string.Join(", ", methods);
        return Error(405, $"{http.Request.Method} is not allowed here (allowed: {string.Join(", ", methods)})");
    }

    /// <summary>Each endpoint's route template, parsed once per application (not on every unmatched request).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<EndpointDataSource, List<(TemplateMatcher Matcher, IReadOnlyList<string> Methods)>> Routes = new();

    private static List<(TemplateMatcher Matcher, IReadOnlyList<string> Methods)> ParseRoutes(EndpointDataSource source) =>
        [.. source.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>() is { HttpMethods.Count: > 0 } && e.RoutePattern.RawText is { } raw && !raw.Contains('*'))
            .Select(e => (new TemplateMatcher(TemplateParser.Parse(e.RoutePattern.RawText!), new RouteValueDictionary()), e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods))];

    private sealed class WithHeader(IResult inner, string name, string value) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => (inner as IStatusCodeHttpResult)?.StatusCode;

        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers[name] = value;
            return inner.ExecuteAsync(http);
        }
    }
}
