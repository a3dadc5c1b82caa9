using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Tests.Processes;

/// <summary>What the proxy does with one `/kv` request.</summary>
public enum ProxyAction
{
    /// <summary>Pass it to the node and return the node's answer.</summary>
    Forward,
    /// <summary>Pass it to the node, then drop the node's answer and reset the connection: the write happened, the client never hears.</summary>
    ForwardAndLoseAnswer,
    /// <summary>Answer 503 "not-applied" without passing it on, like a node that knows no leader.</summary>
    Answer503,
}

/// <summary>One `/kv` request the proxy saw: where it went, its Idempotency-Key, when it came and was answered, and the node's own answer.</summary>
public sealed record ProxiedRequest(int NodeId, string Method, string Path, string? IdempotencyKey, TimeSpan ArrivedAt, TimeSpan AnsweredAt,
    ProxyAction Action, int NodeCode, string NodeBody, bool NodeReplayed);

/// <summary>
/// An HTTP/1.1 proxy in front of a <see cref="ProcessCluster"/>'s nodes, on a port plan of its own (node I at
/// <see cref="HttpBasePort"/> + I), so the real CLI can be pointed at it. It passes every request to the real node
/// except where the scripted actions, taken by `/kv` requests in arrival order, say otherwise; ids it does not listen
/// for refuse connections. One request per connection (it answers with Connection: close).
/// </summary>
public sealed class FaultyHttpProxy : IDisposable
{
    private readonly ProcessCluster _cluster;
    private readonly List<TcpListener> _listeners = [];
    private readonly Queue<ProxyAction> _script;
    private readonly List<ProxiedRequest> _requests = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <param name="listenIds">Node ids the proxy answers for; connections to the others are refused (an unreachable node).</param>
    /// <param name="script">Actions for the first `/kv` requests, in arrival order; later ones are forwarded.</param>
    public FaultyHttpProxy(ProcessCluster cluster, IEnumerable<int> listenIds, params ProxyAction[] script)
    {
        _cluster = cluster;
        _script = new Queue<ProxyAction>(script);
        HttpBasePort = ProcessCluster.FreePortBase(cluster.Nodes);
        foreach (var id in listenIds)
        {
            var listener = new TcpListener(IPAddress.Loopback, HttpBasePort + id);
            listener.Start();
            _listeners.Add(listener);
            _ = Task.Run(() => ServeAsync(listener, id));
        }
    }

    public int HttpBasePort { get; }

    public IReadOnlyList<ProxiedRequest> Requests { get { lock (_requests) return _requests.ToList(); } }

    /// <summary>Runs a CLI client command against the proxy's port plan.</summary>
    public Task<(int Code, string Out)> CliAsync(params string[] args) =>
        ProcessCluster.RunCliAsync(args.Concat(["--http-base-port", $"{HttpBasePort}"]));

    private async Task ServeAsync(TcpListener listener, int id)
    {
        while (true)
        {
            Socket socket;
            try { socket = await listener.AcceptSocketAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = Task.Run(() => HandleAsync(socket, id));
        }
    }

    private async Task HandleAsync(Socket socket, int id)
    {
        using var connection = socket;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            var (method, path, headers, body) = await ReadRequestAsync(stream);
            var arrived = _clock.Elapsed;
            var isKv = path.StartsWith("/kv/", StringComparison.Ordinal);
            ProxyAction action;
            lock (_script) action = isKv && _script.Count > 0 ? _script.Dequeue() : ProxyAction.Forward;
            headers.TryGetValue(KvHttpApi.IdempotencyKeyHeader, out var key);
            (int Code, string? ContentType, string Body, bool Replayed) answer = (0, null, "", false);
            if (action == ProxyAction.Answer503)
                await WriteResponseAsync(stream, 503, "application/json", """{"error":"injected by the test proxy","outcome":"not-applied"}""", replayed: false);
            else
            {
                answer = await ForwardAsync(id, method, path, headers, body);
                if (action == ProxyAction.ForwardAndLoseAnswer) socket.LingerState = new LingerOption(true, 0); // close with a reset, nothing sent
                else await WriteResponseAsync(stream, answer.Code, answer.ContentType, answer.Body, answer.Replayed);
            }
            if (isKv)
                lock (_requests) _requests.Add(new ProxiedRequest(id, method, path, key, arrived, _clock.Elapsed, action, answer.Code, answer.Body, answer.Replayed));
        }
        catch (Exception e) when (e is IOException or SocketException or HttpRequestException or TaskCanceledException or FormatException) { }
    }

    private static async Task<(string Method, string Path, Dictionary<string, string> Headers, byte[] Body)> ReadRequestAsync(Stream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0) throw new IOException("the client closed the connection before the request ended");
            head.Add(one[0]);
        }
        var lines = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var requestLine = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        if (headers.ContainsKey("Transfer-Encoding")) throw new FormatException("the proxy reads bodies with a Content-Length only");
        var body = new byte[headers.TryGetValue("Content-Length", out var length) ? int.Parse(length, System.Globalization.CultureInfo.InvariantCulture) : 0];
        await stream.ReadExactlyAsync(body);
        return (requestLine[0], requestLine[1], headers, body);
    }

    private async Task<(int Code, string? ContentType, string Body, bool Replayed)> ForwardAsync(int id, string method, string path,
        Dictionary<string, string> headers, byte[] body)
    {
        using var forwarded = new HttpRequestMessage(new HttpMethod(method), $"http://127.0.0.1:{_cluster.HttpBasePort + id}{path}");
        if (body.Length > 0 || method is "PUT" or "POST")
        {
            forwarded.Content = new ByteArrayContent(body);
            if (headers.TryGetValue("Content-Type", out var type)) forwarded.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }
        if (headers.TryGetValue(KvHttpApi.IdempotencyKeyHeader, out var key)) forwarded.Headers.Add(KvHttpApi.IdempotencyKeyHeader, key);
        using var response = await _http.SendAsync(forwarded);
        var replayed = response.Headers.TryGetValues(KvHttpApi.ReplayedHeader, out var v) && v.Contains("true");
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync(), replayed);
    }

    private static async Task WriteResponseAsync(Stream stream, int code, string? contentType, string body, bool replayed)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = new StringBuilder($"HTTP/1.1 {code} {(code == 200 ? "OK" : "Status")}\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n");
        if (contentType is not null) head.Append($"Content-Type: {contentType}\r\n");
        if (replayed) head.Append($"{KvHttpApi.ReplayedHeader}: true\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        await stream.WriteAsync(bytes);
        await stream.FlushAsync();
    }

    public void Dispose()
    {
        foreach (var l in _listeners) l.Stop();
        _http.Dispose();
    }
}
