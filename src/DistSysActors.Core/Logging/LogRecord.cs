using System.Collections.Immutable;
using DistSysActors.Core.Clocks;

namespace DistSysActors.Core.Logging;

/// <summary>Severity of a record: the OpenTelemetry log data model's SeverityNumber ranges, one name per range.</summary>
public enum Severity
{
    Trace = 1,
    Debug = 5,
    Info = 9,
    Warn = 13,
    Error = 17,
    Fatal = 21,
}

public static class SeverityText
{
    /// <summary>The OpenTelemetry short name: TRACE, DEBUG, INFO, WARN, ERROR, FATAL.</summary>
    public static string Of(Severity severity) => severity.ToString().ToUpperInvariant();

    /// <summary>Parses a short name (any case); null when unknown.</summary>
    public static Severity? TryParse(string? text) => text?.ToUpperInvariant() switch
    {
        "TRACE" => Severity.Trace,
        "DEBUG" => Severity.Debug,
        "INFO" => Severity.Info,
        "WARN" or "WARNING" => Severity.Warn,
        "ERROR" => Severity.Error,
        "FATAL" => Severity.Fatal,
        _ => null,
    };
}

/// <summary>
/// One log record, following the OpenTelemetry log data model (Timestamp, ObservedTimestamp, TraceId, SpanId,
/// SeverityText and SeverityNumber, Body, Resource = the node, Attributes) plus the node's causal stamps at the event:
/// its hybrid logical clock and its Lamport counter, and its vector clock when the cluster is small enough
/// (<see cref="VectorEntriesMax"/>). <see cref="Id"/> is unique per record across the cluster and restarts, so a record
/// delivered twice is stored once.
/// </summary>
/// <param name="TimestampMs">The node's own (possibly skewed) wall clock at the event, ms since the Unix epoch.</param>
/// <param name="ObservedTimestampMs">When the pipeline took the record in (the same clock), which may be later for records handed over by another logger.</param>
public sealed record LogRecord(
    string Id,
    NodeId Node,
    long TimestampMs,
    long ObservedTimestampMs,
    HlcTimestamp Hlc,
    long Lamport,
    Severity Severity,
    string Body,
    string? TraceId = null,
    string? SpanId = null,
    ImmutableSortedDictionary<string, string>? Attributes = null,
    VectorClock? Vector = null)
{
    /// <summary>Vector clocks are carried only by clusters of at most this many nodes: an entry per node in every envelope does not scale.</summary>
    public const int VectorEntriesMax = 16;

    public ImmutableSortedDictionary<string, string> AttributesOrEmpty => Attributes ?? ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>An attribute's value, or null.</summary>
    public string? Attribute(string key) => Attributes is { } a && a.TryGetValue(key, out var v) ? v : null;
}
