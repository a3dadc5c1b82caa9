using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DistSysActors.Node.Http;

namespace DistSysActors.Node.Commands;

/// <summary>
/// Replication lag during a `distsys bench kv` run: every <see cref="IntervalMs"/> of the measured window it reads the
/// leader's <c>/status.replication</c> and keeps each follower's apply lag (entries and ms) and write lag (ms); the
/// summary gives p50, p99 and max per follower, and how often its lag was unknown (link down).
/// </summary>
internal sealed class BenchKvLag(HttpClient http, IReadOnlyList<Uri> endpoints)
{
    public const int IntervalMs = 200;
    private const int SamplesMax = 100_000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly SortedDictionary<int, Series> _replicas = new();
    private int _polls;

    private sealed class Series
    {
        public List<long> LagMs { get; } = [];
        public List<long> LagEntries { get; } = [];
        public List<long> WriteLagMs { get; } = [];
        public int Unknown { get; set; }
    }

    public async Task SampleAsync(long measureFrom, long measureUntil, CancellationToken ct)
    {
        try
        {
            while (Stopwatch.GetTimestamp() < measureFrom) await Task.Delay(50, ct);
            while (Stopwatch.GetTimestamp() < measureUntil && _polls < SamplesMax)
            {
                if (await LeaderViewAsync(ct) is { } view)
                {
                    _polls++;
                    foreach (var r in view.Replicas)
                    {
                        if (!_replicas.TryGetValue(r.NodeId, out var series)) _replicas[r.NodeId] = series = new Series();
                        if (r.LagMs is { } ms && r.LagEntries is { } entries)
                        {
                            series.LagMs.Add(ms);
                            series.LagEntries.Add(entries);
                            series.WriteLagMs.Add(r.WriteLagMs ?? 0);
                        }
                        else series.Unknown++;
                    }
                }
                await Task.Delay(IntervalMs, ct);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>The replication view of the first endpoint that leads; null when none answers as leader.</summary>
    private async Task<ReplicationDto?> LeaderViewAsync(CancellationToken ct)
    {
        foreach (var endpoint in endpoints)
        {
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(TimeSpan.FromSeconds(2));
                var status = await http.GetFromJsonAsync<StatusDto>(new Uri(endpoint, "/status"), Json, attempt.Token);
                if (status?.Replication is { Role: "Leader" } view) return view;
            }
            catch (Exception e) when (e is HttpRequestException or JsonException || (e is OperationCanceledException && !ct.IsCancellationRequested)) { }
        }
        return null;
    }

    public string Format()
    {
        var sb = new StringBuilder();
        if (_polls == 0)
        {
            sb.AppendLine("replication lag: no leader's /status.replication was read during the run");
            return sb.ToString();
        }
        sb.AppendLine(CultureInfo.InvariantCulture, $"replication lag (leader's view, {_polls} samples every {IntervalMs} ms):");
        foreach (var (node, s) in _replicas)
        {
            if (s.LagMs.Count == 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  node {node}: lag unknown in all {s.Unknown} samples (link down)");
                continue;
            }
            var unknown = s.Unknown > 0 ? $"; unknown in {s.Unknown} samples" : "";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"  node {node}: apply lag ms {Summary(s.LagMs)}; entries {Summary(s.LagEntries)}; write lag ms {Summary(s.WriteLagMs)}{unknown}");
        }
        return sb.ToString();
    }

    private static string Summary(List<long> values)
    {
        var sorted = values.Order().ToArray();
        long At(double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"p50 {At(0.5)} p99 {At(0.99)} max {sorted[^1]}");
    }
}
