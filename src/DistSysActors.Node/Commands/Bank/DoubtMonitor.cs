using System.Text.Json;
using DistSysActors.Node.Client;

namespace DistSysActors.Node.Commands.Bank;

/// <summary>
/// Samples every node's <c>/status.txn</c>: sums the time transactions spend in doubt (entries of the in-doubt lists
/// times the sampling period), keeps the oldest age seen, and tells when the cluster has settled (nothing in doubt,
/// nothing still running at a coordinator, on any node).
/// </summary>
internal sealed class DoubtMonitor(BenchBankCommand.Options o)
{
    public const int SampleMs = 500;
    private readonly object _gate = new();

    public double BlockedTxnSeconds { get; private set; }
    public long MaxAgeMs { get; private set; }
    /// <summary>The last sample, as text (for a report that the cluster did not settle).</summary>
    public string Last { get; private set; } = "";

    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await SampleAsync(ct);
                await Task.Delay(SampleMs, ct);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Samples until every node answers with nothing in doubt and nothing running, or <paramref name="timeout"/> passes.</summary>
    public async Task<bool> WaitSettledAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await SampleAsync(ct)) return true;
            await Task.Delay(SampleMs, ct);
        }
        return false;
    }

    /// <summary>One sample of every node; true if all answered and none has anything in doubt or running.</summary>
    private async Task<bool> SampleAsync(CancellationToken ct)
    {
        var settled = true;
        var parts = new List<string>();
        for (var node = 1; node <= o.Nodes; node++)
        {
            using var client = new NodeClient(node, o.HttpBasePort + node, timeout: TimeSpan.FromSeconds(2));
            try
            {
                var (code, body) = await client.SendAsync(HttpMethod.Get, "/status", ct: ct);
                if (code != 200 || !JsonDocument.Parse(body).RootElement.TryGetProperty("txn", out var txn) || txn.ValueKind != JsonValueKind.Object)
                {
                    settled = false;
                    parts.Add($"node {node}: no txn status");
                    continue;
                }
                var inDoubt = txn.GetProperty("inDoubt").EnumerateArray().ToList();
                var running = txn.TryGetProperty("running", out var r) ? r.GetInt32() : 0;
                lock (_gate)
                {
                    BlockedTxnSeconds += inDoubt.Count * SampleMs / 1000.0;
                    foreach (var d in inDoubt) MaxAgeMs = Math.Max(MaxAgeMs, d.GetProperty("ageMs").GetInt64());
                }
                if (inDoubt.Count > 0 || running > 0) settled = false;
                parts.Add($"node {node}: {inDoubt.Count} in doubt, {running} running");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException && !ct.IsCancellationRequested)
            {
                settled = false;
                parts.Add($"node {node}: down");
            }
        }
        Last = string.Join("; ", parts);
        return settled;
    }
}
