using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using DistSysActors.Node.Http;
using DistSysActors.Node.Local;

namespace DistSysActors.Node.Commands;

/// <summary>
/// `distsys bench kv`: a closed-loop load generator over the HTTP key-value API. Each client waits for its answer
/// before sending the next request, picking a key uniformly and writing a random value or reading; against a local
/// cluster it starts and stops (durable SQLite journal, as `distsys node` uses by default) or against running nodes.
/// </summary>
internal static class BenchKvCommand
{
    private const int ClientsMax = 1024;
    private const int ValueBytesDefault = 256;
    /// <summary>Latency samples kept (reservoir-sampled beyond it), so a long run stays within ~16 MB.</summary>
    private const int LatencySamplesMax = 2_000_000;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public sealed record Options(
        int Nodes, int BasePort, int HttpBasePort, IReadOnlyList<Uri>? Endpoints, int Clients, int Seconds, int WarmupSeconds,
        int ValueBytes, int Keys, double ReadRatio, string Consistency, int RequestTimeoutMs, bool Verify = false, int MaxLagMs = 500, string Consensus = "raft");

    public static Command Create()
    {
        var nodes = CommonOptions.NodeCount(3);
        var basePort = CommonOptions.Port("--base-port", 16050, "Akka.Remote port of node I is base-port + I (local cluster)");
        var httpBasePort = CommonOptions.Port("--http-base-port", 20080, "HTTP port of node I is http-base-port + I (local cluster)");
        var endpoints = new Option<string?>("--endpoints")
        {
            Description = "Comma-separated base URLs of running nodes (e.g. http://127.0.0.1:8081,http://127.0.0.1:8082); none starts a local cluster",
        };
        endpoints.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } text && ParseEndpoints(text, out var error) is null) r.AddError(error!);
        });
        var clients = CommonOptions.Int("--clients", 64, 1, ClientsMax, "Concurrent closed-loop clients, spread round robin over the nodes");
        var seconds = CommonOptions.Int("--seconds", 10, 1, 3600, "Length of the measured run");
        var warmup = CommonOptions.Int("--warmup-seconds", 2, 0, 600, "Load before measuring starts (not counted)");
        var valueBytes = CommonOptions.Int("--value-bytes", ValueBytesDefault, 1, 65536, "Size of each written value (at most the node's distsys.raft.value-bytes-max)");
        var keys = CommonOptions.Int("--keys", 1000, 1, 10_000_000, "Number of distinct keys, picked uniformly");
        var readRatio = new Option<double>("--read-ratio") { Description = "Share of operations that are reads, 0.0..1.0", DefaultValueFactory = _ => 0.0 };
        readRatio.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<double>();
            if (!(v is >= 0.0 and <= 1.0)) r.AddError($"--read-ratio must be between 0.0 and 1.0, was {v.ToString(CultureInfo.InvariantCulture)}");
        });
        var consistency = new Option<string>("--consistency")
        {
            Description = "Consistency of reads: linearizable (default), lease, stale, read-your-writes or monotonic (each client's session: "
                + "its last write's index or last read's X-Applied-Index as min-index), bounded (with --max-lag-ms)",
            DefaultValueFactory = _ => "linearizable",
        };
        consistency.AcceptOnlyFromAmong("linearizable", "lease", "stale", "read-your-writes", "monotonic", "bounded");
        var maxLagMs = CommonOptions.Int("--max-lag-ms", 500, 0, 3_600_000, "The bound of --consistency bounded reads");
        var timeout = CommonOptions.Int("--request-timeout-ms", 5000, 1, 600_000, "A request not answered within this long counts as a timeout error");
        var verify = new Option<bool>("--verify")
        {
            Description = "Record every write's outcome and, after the run, read every written key back: exit 1 if an acknowledged write was lost",
        };
        var consensus = CommonOptions.Consensus();
        var command = new Command("kv", "Closed-loop key-value load over HTTP: ops/s, latency percentiles, errors, messages per operation and each node's peak memory")
        {
            nodes, basePort, httpBasePort, endpoints, clients, seconds, warmup, valueBytes, keys, readRatio, consistency, maxLagMs, timeout, verify, consensus,
        };
        command.Validators.Add(r =>
        {
            // An option left at its default has no result while validating: its default applies.
            var bytes = r.GetResult(valueBytes) is { } given ? given.GetValueOrDefault<int>() : ValueBytesDefault;
            if (r.GetResult(verify) is { } v && v.GetValueOrDefault<bool>() && bytes < BenchKvVerification.IdBytes)
                r.AddError($"--verify needs --value-bytes of at least {BenchKvVerification.IdBytes} (each value starts with its write's id)");
        });
        command.Validators.Add(r =>
        {
            if (r.GetResult(endpoints) is null) return;
            foreach (var local in new Option[] { nodes, basePort, httpBasePort, consensus })
                if (r.GetResult(local) is { Implicit: false })
                    r.AddError($"{local.Name} applies to the local cluster this command starts; with --endpoints the nodes are already running");
        });
        command.SetAction((p, ct) => RunAsync(new Options(
            p.GetValue(nodes), p.GetValue(basePort), p.GetValue(httpBasePort),
            p.GetValue(endpoints) is { } e ? ParseEndpoints(e, out _) : null,
            p.GetValue(clients), p.GetValue(seconds), p.GetValue(warmup), p.GetValue(valueBytes), p.GetValue(keys),
            p.GetValue(readRatio), p.GetValue(consistency)!, p.GetValue(timeout), p.GetValue(verify), p.GetValue(maxLagMs), p.GetValue(consensus)!), ct));
        return command;
    }


    /// <summary>The endpoints as absolute http(s) URLs without path, or null with <paramref name="error"/> saying which one is wrong.</summary>
    public static IReadOnlyList<Uri>? ParseEndpoints(string text, out string? error)
    {
        var result = new List<Uri>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
            {
                error = $"--endpoints expects base URLs such as http://127.0.0.1:8081, got '{part}'";
                return null;
            }
            result.Add(uri);
        }
        if (result.Count == 0)
        {
            error = "--endpoints needs at least one URL";
            return null;
        }
        error = null;
        return result;
    }

    private static async Task<int> RunAsync(Options o, CancellationToken ct)
    {
        var kind = o.ReadRatio == 0 ? "writes" : o.ReadRatio == 1 ? $"{o.Consistency} reads" : $"{o.ReadRatio:0.00} {o.Consistency} reads";
        if (o.Endpoints is { } endpoints)
        {
            Console.WriteLine($"bench kv against {endpoints.Count} running node(s): {Describe(o, kind)}");
            using var http = CreateHttpClient(o, endpoints.Count);
            await AwaitReadyAsync(http, endpoints, ct);
            return await MeasureAsync(http, endpoints, o, ct);
        }
        var dataDir = Path.Combine(Path.GetTempPath(), $"distsys-bench-kv-{Environment.ProcessId}");
        Console.WriteLine($"bench kv on a local cluster of {o.Nodes} node(s) on {o.Consensus} (durable SQLite journal under {dataDir}): {Describe(o, kind)}");
        var local = Enumerable.Range(1, o.Nodes).Select(i => new Uri($"http://127.0.0.1:{o.HttpBasePort + i}")).ToList();
        int code;
        await using (var cluster = new LocalCluster(o.Nodes, o.BasePort, o.HttpBasePort, dataDir, CommonOptions.ConsensusArgs(o.Consensus)) { Quiet = true })
        {
            cluster.Start();
            if (!await cluster.WaitReadyAsync(ct)) throw new CommandException($"the cluster did not become ready; node logs under {dataDir}");
            using var http = CreateHttpClient(o, local.Count);
            code = await MeasureAsync(http, local, o, ct);
        }
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        return code;
    }

    private static string Describe(Options o, string kind) =>
        $"{o.Clients} clients, {kind}, {o.Keys} keys, {o.ValueBytes}-byte values, {o.Seconds} s after {o.WarmupSeconds} s warm-up"
        + (o.Verify ? ", verifying acknowledged writes" : "");

    /// <summary>One pooled client for every loop: enough keep-alive connections per node that no client waits for a socket.</summary>
    private static HttpClient CreateHttpClient(Options o, int endpointCount) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = Math.Max(1, (o.Clients + endpointCount - 1) / endpointCount) + 2,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestVersion = HttpVersion.Version11,
    };

    private static async Task AwaitReadyAsync(HttpClient http, IReadOnlyList<Uri> endpoints, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        foreach (var endpoint in endpoints)
        {
            string last = "no answer";
            while (true)
            {
                try
                {
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    attempt.CancelAfter(TimeSpan.FromSeconds(2));
                    using var response = await http.GetAsync(new Uri(endpoint, "/health/ready"), attempt.Token);
                    if (response.IsSuccessStatusCode) break;
                    last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}";
                }
                catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested)) { last = e.Message; }
                if (deadline.Elapsed > ReadyTimeout) throw new CommandException($"{endpoint} is not ready after {ReadyTimeout.TotalSeconds:0} s: {last}");
                await Task.Delay(250, ct);
            }
        }
    }

    private static async Task<int> MeasureAsync(HttpClient http, IReadOnlyList<Uri> endpoints, Options o, CancellationToken ct)
    {
        var history = new WriteHistory(o.Verify);
        if (o.ReadRatio > 0) await PreloadAsync(http, endpoints, o, history, ct);
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + o.WarmupSeconds * Stopwatch.Frequency;
        var measureUntil = measureFrom + o.Seconds * Stopwatch.Frequency;
        var samplesPerClient = Math.Max(1000, LatencySamplesMax / o.Clients);
        var loops = Enumerable.Range(0, o.Clients)
            .Select(i => new ClientLoop(i, http, endpoints, o, measureFrom, measureUntil, samplesPerClient, history))
            .ToList();
        if (o.WarmupSeconds > 0) Console.WriteLine($"warming up for {o.WarmupSeconds} s ...");
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var lag = new BenchKvLag(http, endpoints);
        var sampling = Task.Run(() => lag.SampleAsync(measureFrom, measureUntil, stopSampling.Token), ct);
        var sent = Task.Run(() => SentDuringAsync(http, endpoints, measureFrom, measureUntil, ct), ct);
        await Task.WhenAll(loops.Select(l => Task.Run(() => l.RunAsync(ct), ct)));
        await stopSampling.CancelAsync();
        await sampling;
        var result = BenchResult.Merge(loops, o.Seconds);
        Console.WriteLine(result.Format());
        Console.Write(lag.Format());
        if (await sent is { } messages && result.Writes + result.Reads > 0)
            Console.WriteLine($"messages: {messages} sent by all nodes while measuring, {(double)messages / (result.Writes + result.Reads):0.0} per operation (background traffic included)");
        var code = o.Verify ? await VerifyAsync(http, endpoints, history, o, ct) : 0;
        await PrintMemoryAsync(http, endpoints, ct);
        return code;
    }

    /// <summary>
    /// Network messages every node sent between <paramref name="from"/> and <paramref name="until"/> (Stopwatch
    /// timestamps), from the counters in /status; null when a node could not be read at either end.
    /// </summary>
    private static async Task<long?> SentDuringAsync(HttpClient http, IReadOnlyList<Uri> endpoints, long from, long until, CancellationToken ct)
    {
        async Task<long?> SumAsync()
        {
            long sum = 0;
            foreach (var endpoint in endpoints)
            {
                try { sum += (await http.GetFromJsonAsync<StatusDto>(new Uri(endpoint, "/status"), Json, ct))!.Network.Counters.Sent; }
                catch (Exception e) when (e is HttpRequestException or JsonException || (e is OperationCanceledException && !ct.IsCancellationRequested)) { return null; }
            }
            return sum;
        }
        static TimeSpan Until(long timestamp) => TimeSpan.FromSeconds(Math.Max(0, timestamp - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
        await Task.Delay(Until(from), ct);
        var before = await SumAsync();
        await Task.Delay(Until(until), ct);
        var after = await SumAsync();
        return before is { } b && after is { } a ? a - b : null;
    }

    /// <summary>
    /// Waits for the cluster to settle (every endpoint ready, or <see cref="SettleTimeout"/>: a node removed during the run
    /// never is and is left out), reads every written key linearizably through the ready endpoints and checks the history.
    /// </summary>
    private static async Task<int> VerifyAsync(HttpClient http, IReadOnlyList<Uri> endpoints, WriteHistory history, Options o, CancellationToken ct)
    {
        var writes = history.All();
        Console.WriteLine($"verify: {writes.Count} writes recorded; waiting for the endpoints to settle ...");
        var ready = await SettleAsync(http, endpoints, ct);
        foreach (var skipped in endpoints.Except(ready)) Console.WriteLine($"  {skipped.Authority} is not ready after {SettleTimeout.TotalSeconds:0} s; reading through the others");
        if (ready.Count == 0)
        {
            Console.WriteLine("verify: no endpoint is ready; nothing could be read back (not verified)");
            return 1;
        }
        var keys = writes.Select(w => w.Key).Distinct(StringComparer.Ordinal).ToList();
        var reads = new System.Collections.Concurrent.ConcurrentDictionary<string, string?>(StringComparer.Ordinal);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Math.Min(o.Clients, Math.Max(1, keys.Count))).Select(c => Task.Run(async () =>
        {
            int k;
            while ((k = Interlocked.Increment(ref next)) < keys.Count)
                if (await ReadBackAsync(http, ready, c + k, keys[k], o, ct) is { } read) reads[keys[k]] = read.Value;
        }, ct)));
        var report = BenchKvVerification.Check(writes, reads);
        Console.WriteLine(report.Format());
        if (history.Truncated) Console.WriteLine($"  not verified: the history stopped at {BenchKvVerification.WritesMax} writes");
        return report.Passed && !history.Truncated ? 0 : 1;
    }

    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);
    private const int ReadBackAttemptsMax = 20;

    private static async Task<IReadOnlyList<Uri>> SettleAsync(HttpClient http, IReadOnlyList<Uri> endpoints, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var ready = new List<Uri>();
            foreach (var endpoint in endpoints)
            {
                try
                {
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    attempt.CancelAfter(TimeSpan.FromSeconds(2));
                    using var response = await http.GetAsync(new Uri(endpoint, "/health/ready"), attempt.Token);
                    if (response.IsSuccessStatusCode) ready.Add(endpoint);
                }
                catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested)) { }
            }
            if (ready.Count == endpoints.Count || deadline.Elapsed > SettleTimeout) return ready;
            await Task.Delay(500, ct);
        }
    }

    /// <summary>A linearizable read of one key (value, or null when absent), retried through the endpoints; null when every attempt failed.</summary>
    private static async Task<StrongBox<string?>?> ReadBackAsync(HttpClient http, IReadOnlyList<Uri> endpoints, int start, string key, Options o, CancellationToken ct)
    {
        for (var attempt = 0; attempt < ReadBackAttemptsMax; attempt++)
        {
            var endpoint = endpoints[(start + attempt) % endpoints.Count];
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(o.RequestTimeoutMs);
                using var response = await http.GetAsync(new Uri(endpoint, $"/kv/{key}?consistency=linearizable"), timeout.Token);
                if (response.StatusCode == HttpStatusCode.OK) return new StrongBox<string?>(await response.Content.ReadAsStringAsync(ct));
                if (response.StatusCode == HttpStatusCode.NotFound) return new StrongBox<string?>(null);
            }
            catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested)) { }
            await Task.Delay(Math.Min(1000, 100 * (attempt + 1)), ct);
        }
        return null;
    }

    /// <summary>Every client's recorded writes, bounded by <see cref="BenchKvVerification.WritesMax"/> in all.</summary>
    internal sealed class WriteHistory(bool enabled)
    {
        private readonly List<List<BenchKvVerification.WriteRecord>> _lists = new();
        private int _count;

        public bool Enabled => enabled;
        public bool Truncated { get; private set; }

        public List<BenchKvVerification.WriteRecord> NewList()
        {
            var list = new List<BenchKvVerification.WriteRecord>();
            lock (_lists) _lists.Add(list);
            return list;
        }

        /// <summary>Records one write in the caller's own list (one list per client, so no lock on the hot path).</summary>
        public void Record(List<BenchKvVerification.WriteRecord> list, BenchKvVerification.WriteRecord write)
        {
            if (Interlocked.Increment(ref _count) > BenchKvVerification.WritesMax) { Truncated = true; return; }
            list.Add(write);
        }

        public IReadOnlyList<BenchKvVerification.WriteRecord> All()
        {
            lock (_lists) return _lists.SelectMany(l => l).ToList();
        }
    }

    /// <summary>Writes every key once before a run with reads, so reads find values instead of 404s.</summary>
    private static async Task PreloadAsync(HttpClient http, IReadOnlyList<Uri> endpoints, Options o, WriteHistory history, CancellationToken ct)
    {
        Console.WriteLine($"writing all {o.Keys} keys once before the run ...");
        var plain = new string('v', o.ValueBytes);
        var next = -1;
        var failures = 0;
        await Task.WhenAll(Enumerable.Range(0, Math.Min(o.Clients, o.Keys)).Select(c => Task.Run(async () =>
        {
            // Preload writers have ids above every client's, so their values are unique too.
            var writer = ClientsMax + c;
            var seq = 0L;
            var recorded = history.Enabled ? history.NewList() : null;
            int key;
            while ((key = Interlocked.Increment(ref next)) < o.Keys)
            {
                for (var attempt = 0; ; attempt++)
                {
                    var value = recorded is null ? plain : BenchKvVerification.Value(writer, ++seq, o.ValueBytes);
                    var outcome = BenchKvVerification.Outcome.Unknown;
                    try
                    {
                        using var response = await http.PutAsync(new Uri(endpoints[c % endpoints.Count], ClientLoop.KeyPath(key)), new StringContent(value), ct);
                        outcome = BenchKvVerification.Classify((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));
                    }
                    catch (HttpRequestException) { }
                    if (recorded is not null && outcome.Applied) history.Record(recorded, new(ClientLoop.KeyName(key), writer, seq, outcome.Index));
                    if (outcome.Index is not null) break;
                    if (attempt == 10) { Interlocked.Increment(ref failures); break; }
                    await Task.Delay(100, ct);
                }
            }
        }, ct)));
        if (failures > 0) Console.WriteLine($"  {failures} keys could not be written; reads of them answer 404");
    }

    private static async Task PrintMemoryAsync(HttpClient http, IReadOnlyList<Uri> endpoints, CancellationToken ct)
    {
        Console.WriteLine("memory per node (peak resident set since the node started; now; managed heap now):");
        foreach (var endpoint in endpoints)
        {
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(TimeSpan.FromSeconds(10));
                var status = await http.GetFromJsonAsync<StatusDto>(new Uri(endpoint, "/status"), Json, attempt.Token);
                Console.WriteLine(status?.Process is { } p
                    ? $"  node {status.NodeId} ({endpoint.Authority}): peak RSS {Mib(p.PeakRssBytes)}, RSS {Mib(p.RssBytes)}, GC heap {Mib(p.GcHeapBytes)}"
                    : $"  {endpoint.Authority}: /status has no process memory (an older node?)");
            }
            catch (Exception e) when (e is HttpRequestException or JsonException || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                Console.WriteLine($"  {endpoint.Authority}: no status ({e.Message})");
            }
        }
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):0.0} MiB";

    /// <summary>
    /// One closed-loop client: one request in flight, the next sent when the answer is in. It starts on endpoint
    /// index mod count and moves to the next endpoint after an error, as a client of a real cluster would (a stopped or
    /// removed node then costs one error per client, not the rest of the run).
    /// </summary>
    internal sealed class ClientLoop(
        int index, HttpClient http, IReadOnlyList<Uri> endpoints, Options o, long measureFrom, long measureUntil, int samplesMax, WriteHistory history)
    {
        private static readonly char[] Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".ToCharArray();
        // Seeded per client: runs differ only by timing, not by the keys and values they touch.
        private readonly Random _random = new(0x6B76 + index);
        private readonly string _readQuery = o.Consistency switch
        {
            "linearizable" => "",
            "bounded" => $"?consistency=bounded&max-lag-ms={o.MaxLagMs}",
            _ => $"?consistency={o.Consistency}",
        };
        // Session reads: the highest index this client's writes answered or its reads observed (X-Applied-Index).
        private readonly bool _session = o.Consistency is "read-your-writes" or "monotonic";
        private long _sessionIndex;

        private string ReadQuery => _session ? $"{_readQuery}&min-index={_sessionIndex}" : _readQuery;

        public LatencySamples Writes { get; } = new(samplesMax, index);
        public LatencySamples Reads { get; } = new(samplesMax, index + ClientsMax);
        public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

        public static string KeyName(int key) => $"bench-{key}";

        private static long? AppliedIndexOf(HttpResponseMessage response) =>
            response.Headers.TryGetValues(KvHttpApi.AppliedIndexHeader, out var v)
            && long.TryParse(v.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        public static string KeyPath(int key) => $"/kv/{KeyName(key)}";

        /// <summary>"http 503 (reason)": the status and the API's error text, so overload, timeouts and lost leaders count apart.</summary>
        public static string ErrorKind(int code, string body)
        {
            string? reason = null;
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String)
                    reason = e.GetString();
            }
            catch (JsonException) { }
            return reason is null ? $"http {code}" : $"http {code} ({(reason.Length > 80 ? reason[..80] + "..." : reason)})";
        }

        public async Task RunAsync(CancellationToken ct)
        {
            var value = new char[o.ValueBytes];
            for (var i = 0; i < value.Length; i++) value[i] = Alphabet[_random.Next(Alphabet.Length)];
            var recorded = history.Enabled ? history.NewList() : null;
            var seq = 0L;
            var endpoint = index % endpoints.Count;
            var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            try
            {
                while (Stopwatch.GetTimestamp() < measureUntil && !ct.IsCancellationRequested)
                {
                    var key = _random.Next(o.Keys);
                    var uri = new Uri(endpoints[endpoint], KeyPath(key));
                    var read = o.ReadRatio > 0 && _random.NextDouble() < o.ReadRatio;
                    HttpRequestMessage request;
                    if (read) request = new HttpRequestMessage(HttpMethod.Get, _readQuery.Length == 0 ? uri : new Uri(uri + ReadQuery));
                    else if (recorded is not null)
                        request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = new StringContent(BenchKvVerification.Value(index, ++seq, o.ValueBytes)) };
                    else
                    {
                        // A fresh value each write: a few random characters changed.
                        for (var i = 0; i < 4; i++) value[_random.Next(value.Length)] = Alphabet[_random.Next(Alphabet.Length)];
                        request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = new StringContent(new string(value)) };
                    }
                    var began = Stopwatch.GetTimestamp();
                    string? error = null;
                    // Whatever did not answer 200 {"index": n} or a certain "not applied" may still take effect.
                    var outcome = BenchKvVerification.Outcome.Unknown;
                    timeout.CancelAfter(o.RequestTimeoutMs);
                    try
                    {
                        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
                        var code = (int)response.StatusCode;
                        var body = code != 200 || ((recorded is not null || _session) && !read) ? await response.Content.ReadAsStringAsync(ct) : "";
                        if (code != 200 && !(read && code == 404)) error = ErrorKind(code, body);
                        if (_session) _sessionIndex = Math.Max(_sessionIndex, SessionToken.IndexOf(request.Method, code, body, AppliedIndexOf(response)) ?? 0);
                        if (recorded is not null && !read)
                        {
                            outcome = BenchKvVerification.Classify(code, body);
                            if (code == 200 && outcome.Index is null) error = "http 200 without an index";
                        }
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested) { error = "timeout"; }
                    catch (HttpRequestException e) { error = $"connection: {e.HttpRequestError}"; }
                    finally { request.Dispose(); }
                    var ended = Stopwatch.GetTimestamp();
                    // Recorded whether or not inside the measured window: the check needs every write.
                    if (recorded is not null && !read && outcome.Applied)
                        history.Record(recorded, new BenchKvVerification.WriteRecord(KeyName(key), index, seq, outcome.Index));
                    if (error is not null) endpoint = (endpoint + 1) % endpoints.Count;
                    if (!timeout.TryReset())
                    {
                        timeout.Dispose();
                        timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    }
                    if (began < measureFrom || ended > measureUntil) continue;
                    if (error is not null) Errors[error] = Errors.GetValueOrDefault(error) + 1;
                    else (read ? Reads : Writes).Add(ended - began);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            finally { timeout.Dispose(); }
        }
    }

    /// <summary>Latencies in Stopwatch ticks: the exact count and maximum, and a bounded uniform sample (reservoir) for percentiles.</summary>
    internal sealed class LatencySamples(int samplesMax, int seed)
    {
        private readonly List<long> _samples = new();
        private readonly Random _random = new(seed);

        public long Count { get; private set; }
        public long MaxTicks { get; private set; }
        public IReadOnlyList<long> Samples => _samples;

        public void Add(long ticks)
        {
            Count++;
            MaxTicks = Math.Max(MaxTicks, ticks);
            if (_samples.Count < samplesMax) _samples.Add(ticks);
            else if (_random.NextInt64(Count) is var slot && slot < samplesMax) _samples[(int)slot] = ticks;
        }
    }

    internal sealed record BenchResult(int Seconds, long Writes, long Reads, long[] SortedTicks, long[] SortedWriteTicks, long WriteMaxTicks,
        long[] SortedReadTicks, long ReadMaxTicks, IReadOnlyDictionary<string, long> Errors)
    {
        public static BenchResult Merge(IReadOnlyList<ClientLoop> loops, int seconds)
        {
            var writes = loops.SelectMany(l => l.Writes.Samples).Order().ToArray();
            var reads = loops.SelectMany(l => l.Reads.Samples).Order().ToArray();
            var errors = loops.SelectMany(l => l.Errors).GroupBy(e => e.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Sum(e => e.Value), StringComparer.Ordinal);
            return new BenchResult(seconds, loops.Sum(l => l.Writes.Count), loops.Sum(l => l.Reads.Count),
                writes.Concat(reads).Order().ToArray(), writes, loops.Max(l => l.Writes.MaxTicks), reads, loops.Max(l => l.Reads.MaxTicks), errors);
        }

        public string Format()
        {
            var lines = new List<string>
            {
                $"throughput: {(Writes + Reads) / (double)Seconds:0} ops/s ({Writes / (double)Seconds:0} writes/s, {Reads / (double)Seconds:0} reads/s; "
                + $"{Writes + Reads} ops in {Seconds} s)",
                $"latency ms: {Percentiles(SortedTicks, Math.Max(WriteMaxTicks, ReadMaxTicks))}",
            };
            if (SortedWriteTicks.Length > 0 && SortedReadTicks.Length > 0)
            {
                lines.Add($"  writes:   {Percentiles(SortedWriteTicks, WriteMaxTicks)}");
                lines.Add($"  reads:    {Percentiles(SortedReadTicks, ReadMaxTicks)}");
            }
            lines.Add("errors: " + (Errors.Count == 0 ? "none"
                : string.Join(", ", Errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {e.Value}"))));
            return string.Join(Environment.NewLine, lines);
        }

        private static string Percentiles(long[] sorted, long maxTicks) => sorted.Length == 0 ? "no successful operations"
            : $"p50 {Ms(At(sorted, 0.5))}  p99 {Ms(At(sorted, 0.99))}  p99.9 {Ms(At(sorted, 0.999))}  max {Ms(maxTicks)}";

        private static long At(long[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

        private static string Ms(long ticks) => (ticks * 1000.0 / Stopwatch.Frequency).ToString("0.00", CultureInfo.InvariantCulture);
    }
}
