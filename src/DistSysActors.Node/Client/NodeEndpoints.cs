using System.Text.Json;
using DistSysActors.Node.Commands;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Client;

/// <summary>
/// Where the CLI's client commands find node I. Without an endpoint, on the localhost port plan:
/// http://127.0.0.1:(http-base-port + I). With one (<c>--endpoint URL</c> or <c>DISTSYS_ENDPOINT</c>), at the addresses
/// the cluster itself announces: the endpoint node's <c>/status</c> lists every member's HTTP base address
/// (<c>members[].http</c>), so a cluster spread over hosts, on any ports, is reached from one address the user knows.
/// That <c>/status</c> is asked once per CLI run; every client command creates its clients here.
/// </summary>
internal sealed class NodeEndpoints
{
    /// <summary>The root option that names one node's HTTP base address.</summary>
    public const string OptionName = "--endpoint";

    /// <summary>The environment variable read when <see cref="OptionName"/> is absent.</summary>
    public const string EnvironmentVariable = "DISTSYS_ENDPOINT";

    /// <summary>The form shown in errors: a URL a user can copy and adapt.</summary>
    public const string Example = "http://10.0.0.1:8081";

    private readonly SemaphoreSlim _resolving = new(1, 1);
    private Resolution? _resolution;
    private StatusDto? _unreadStatus;

    private NodeEndpoints(Uri? endpoint, string source)
    {
        Endpoint = endpoint;
        Source = source;
    }

    /// <summary>The localhost port plan: no endpoint.</summary>
    public static NodeEndpoints PortPlan { get; } = new(null, "");

    /// <summary>This CLI run's endpoints, set once from the command line before a command runs.</summary>
    public static NodeEndpoints Current { get; set; } = PortPlan;

    /// <summary>The endpoint, or null on the port plan.</summary>
    public Uri? Endpoint { get; }

    /// <summary>Where the endpoint came from (<c>--endpoint</c> or <c>DISTSYS_ENDPOINT</c>), so errors say what to fix.</summary>
    public string Source { get; }

    public bool IsSet => Endpoint is not null;

    /// <summary>The endpoint as errors name it, e.g. "http://10.0.0.1:8081 (--endpoint)".</summary>
    public string Describe() => Endpoint is null ? "the localhost port plan" : $"{Text(Endpoint)} ({Source})";

    /// <summary>
    /// The endpoint given by the option, else by the environment variable (an empty one counts as absent), else none.
    /// An invalid value fails here, before anything is sent.
    /// </summary>
    public static NodeEndpoints From(string? option, string? environment)
    {
        if (option is not null) return new(Parse(option, OptionName), OptionName);
        if (!string.IsNullOrWhiteSpace(environment)) return new(Parse(environment, EnvironmentVariable), EnvironmentVariable);
        return PortPlan;
    }

    /// <summary>
    /// Endpoints whose <c>/status</c> is already known (a caller that asked it itself): nothing more is asked.
    /// </summary>
    public static NodeEndpoints Known(Uri endpoint, string source, StatusDto status)
    {
        var endpoints = new NodeEndpoints(endpoint, source);
        endpoints.Resolve(endpoint, status);
        return endpoints;
    }

    /// <summary>A node's HTTP base address: an absolute http:// or https:// URL with a host and nothing after the port.</summary>
    public static Uri Parse(string text, string source) =>
        Problem(text) is { } problem
            ? throw new CommandException($"{source} must be a node's HTTP base address, an absolute http:// or https:// URL such as {Example}; '{text}' {problem}")
            : new Uri(text.Trim(), UriKind.Absolute);

    /// <summary>Why <paramref name="text"/> is not an endpoint, or null when it is one.</summary>
    public static string? Problem(string text)
    {
        text = text.Trim();
        if (text.Length == 0) return "is empty";
        if (!text.Contains("://", StringComparison.Ordinal)) return "has no scheme (http:// or https://)";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) return "is not a valid URL";
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) return $"has the scheme '{uri.Scheme}', not http or https";
        if (uri.Host.Length == 0) return "has no host";
        if (uri.UserInfo.Length > 0) return "carries user information (tokens go in DISTSYS_ADMIN_TOKEN and DISTSYS_KV_TOKEN)";
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0) return "has a path, query or fragment (give only scheme, host and port)";
        return null;
    }

    /// <summary>
    /// Node id → HTTP base address from the endpoint node's <c>/status</c>: its own id → <paramref name="endpoint"/> (the
    /// address the user reaches it at, which may differ from the one it announces), each other member → its
    /// <c>http</c>. A member without one, or with one that is no http(s) URL, is left out. When a node id is listed twice
    /// (a restarted node beside its old incarnation), the member furthest along (Up before Joining before Leaving before
    /// Down) is taken.
    /// </summary>
    public static IReadOnlyDictionary<int, Uri> MapFrom(Uri endpoint, StatusDto status)
    {
        var map = new SortedDictionary<int, Uri> { [status.NodeId] = endpoint };
        var ranks = new Dictionary<int, int>();
        foreach (var m in status.Members)
        {
            if (m.NodeId is not { } id || id == status.NodeId || m.Http is not { } http || Problem(http) is not null) continue;
            var rank = Rank(m.Status);
            if (ranks.TryGetValue(id, out var seen) && seen <= rank) continue;
            ranks[id] = rank;
            map[id] = new Uri(http.Trim(), UriKind.Absolute);
        }
        return map;
    }

    private static int Rank(string status) => status switch
    {
        "Up" => 0,
        "WeaklyUp" or "Joining" => 1,
        "Leaving" or "Exiting" => 2,
        _ => 3,
    };

    /// <summary>
    /// The endpoint's map, asking its <c>/status</c> the first time (once per run). Fails with one line naming the
    /// endpoint and the cause when it does not answer.
    /// </summary>
    public async Task<IReadOnlyDictionary<int, Uri>> ResolveAsync(CancellationToken ct)
    {
        var endpoint = Endpoint ?? throw new InvalidOperationException("no endpoint to resolve on the port plan");
        await _resolving.WaitAsync(ct);
        try
        {
            if (_resolution is { } done) return done.Map;
            using var client = new NodeClient(0, endpoint);
            StatusDto status;
            try { status = await client.StatusAsync(ct); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException or NotSupportedException
                                      && !ct.IsCancellationRequested)
            {
                var cause = e is TaskCanceledException ? "no answer within 10 s" : e.Message;
                throw new CommandException($"the endpoint {Describe()} did not answer GET /status: {cause}");
            }
            Resolve(endpoint, status);
            _unreadStatus = status;
            return _resolution!.Map;
        }
        finally { _resolving.Release(); }
    }

    private void Resolve(Uri endpoint, StatusDto status)
    {
        var map = MapFrom(endpoint, status);
        _resolution = new Resolution(status.NodeId, map, status.Members
            .Where(m => m.NodeId is { } id && !map.ContainsKey(id)).Select(m => m.NodeId!.Value).ToHashSet());
    }

    /// <summary>The endpoint node's own id (resolving first when needed).</summary>
    public async Task<int> EndpointNodeIdAsync(CancellationToken ct)
    {
        await ResolveAsync(ct);
        return _resolution!.SelfId;
    }

    /// <summary>
    /// The endpoint's <c>/status</c> from the resolution, once, when nothing has read it yet: the first connection of a
    /// run need not ask the same node again. Later calls get null and ask afresh (a watching command wants news).
    /// </summary>
    public StatusDto? TakeResolutionStatus() => Interlocked.Exchange(ref _unreadStatus, null);

    /// <summary>
    /// The nodes a command that acts on every node goes over: on the port plan 1..N of the answering node's view; with an
    /// endpoint, the members it reports (with an HTTP address).
    /// </summary>
    public IReadOnlyList<int> Ids(StatusDto status) =>
        IsSet ? [.. Resolved().Map.Keys] : [.. Enumerable.Range(1, status.Nodes)];

    /// <summary>Whether <see cref="Create"/> can make a client for node <paramref name="id"/>.</summary>
    public bool Knows(int id) => !IsSet || Resolved().Map.ContainsKey(id);

    /// <summary>
    /// A client for node <paramref name="id"/>: on the port plan at 127.0.0.1:(<paramref name="httpBasePort"/> + id),
    /// with an endpoint at the address the cluster announces (an id it does not list fails, naming the id and the endpoint).
    /// Tokens come from the environment, as for every CLI client.
    /// </summary>
    public NodeClient Create(int id, int httpBasePort, TimeSpan? timeout = null)
    {
        if (!IsSet) return new NodeClient(id, httpBasePort + id, timeout: timeout);
        var resolution = Resolved();
        if (resolution.Map.TryGetValue(id, out var url)) return new NodeClient(id, url, timeout);
        throw new CommandException(resolution.WithoutHttp.Contains(id)
            ? $"node {id} is a member of the cluster at {Describe()} but announces no HTTP address"
            : $"node {id} is not a member of the cluster at {Describe()} (members: {string.Join(", ", resolution.Map.Keys)})");
    }

    /// <summary>The resolution, made now when no async caller made it before (a console app has no context to deadlock).</summary>
    private Resolution Resolved()
    {
        if (_resolution is null) ResolveAsync(CancellationToken.None).GetAwaiter().GetResult();
        return _resolution!;
    }

    private static string Text(Uri uri) => uri.GetLeftPart(UriPartial.Authority);

    private sealed record Resolution(int SelfId, IReadOnlyDictionary<int, Uri> Map, IReadOnlySet<int> WithoutHttp);
}
