using System.Globalization;

namespace DistSysActors.Core.Logging;

/// <summary>
/// A query over log records (<c>GET /logs</c>): all filters are optional and combine with AND. <see cref="SinceHlcMs"/>
/// compares with the record's HLC wall part, which never goes backwards on a node and stays within the clock skew of real
/// time. With <see cref="SinceHlcMs"/> the first <see cref="Limit"/> records after it are kept (what a follower wants),
/// otherwise the latest <see cref="Limit"/>.
/// </summary>
public sealed record LogQuery(string? TraceId = null, NodeId? Node = null, Severity? MinSeverity = null, long? SinceHlcMs = null, int Limit = LogQuery.DefaultLimit)
{
    public const int DefaultLimit = 1000;
    public const int LimitMax = 10_000;

    public bool Matches(LogRecord record) =>
        (TraceId is null || string.Equals(record.TraceId, TraceId, StringComparison.Ordinal))
        && (Node is null || record.Node == Node)
        && (MinSeverity is null || record.Severity >= MinSeverity)
        && (SinceHlcMs is null || record.Hlc.WallMs > SinceHlcMs);

    /// <summary>Applies the query to records from any number of nodes: filter, merge in <paramref name="order"/>, then the limit.</summary>
    public List<LogRecord> Apply(IEnumerable<LogRecord> records, LogOrderKind order = LogOrderKind.Hlc)
    {
        var merged = LogOrder.Merge([records.Where(Matches)], order);
        if (merged.Count <= Limit) return merged;
        return SinceHlcMs is null ? merged.GetRange(merged.Count - Limit, Limit) : merged.GetRange(0, Limit);
    }

    /// <summary>
    /// Parses the query parameters (trace: 32 hex digits; node: a positive integer; severity: TRACE..FATAL, the minimum;
    /// since: Unix ms or an ISO-8601 time; limit: 1..10000). Every bad parameter is named in the error.
    /// </summary>
    public static (LogQuery? Query, string? Error) Parse(string? trace, string? node, string? severity, string? since, string? limit)
    {
        var errors = new List<string>();
        string? traceId = null;
        if (!string.IsNullOrEmpty(trace))
        {
            traceId = trace.ToLowerInvariant();
            if (!TraceContext.IsTraceId(traceId)) errors.Add($"trace must be a W3C trace id (32 hex digits, not all zero), was '{trace}'");
        }
        NodeId? nodeId = null;
        if (!string.IsNullOrEmpty(node))
        {
            if (int.TryParse(node, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0) nodeId = new NodeId(n);
            else errors.Add($"node must be a positive integer, was '{node}'");
        }
        Severity? minSeverity = null;
        if (!string.IsNullOrEmpty(severity))
        {
            minSeverity = SeverityText.TryParse(severity);
            if (minSeverity is null) errors.Add($"severity must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, was '{severity}'");
        }
        long? sinceMs = null;
        if (!string.IsNullOrEmpty(since))
        {
            if (long.TryParse(since, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)) sinceMs = ms;
            else if (DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) sinceMs = at.ToUnixTimeMilliseconds();
            else errors.Add($"since must be Unix milliseconds or an ISO-8601 time, was '{since}'");
        }
        var count = DefaultLimit;
        if (!string.IsNullOrEmpty(limit))
        {
            if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > LimitMax)
                errors.Add($"limit must be an integer from 1 to {LimitMax}, was '{limit}'");
        }
        return errors.Count > 0 ? (null, string.Join("; ", errors)) : (new LogQuery(traceId, nodeId, minSeverity, sinceMs, count), null);
    }
}
