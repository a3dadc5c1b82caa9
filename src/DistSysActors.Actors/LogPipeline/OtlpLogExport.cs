using System.Diagnostics;
using System.Globalization;
using DistSysActors.Core;
using DistSysActors.Core.Logging;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Resources;
using LogRecord = DistSysActors.Core.Logging.LogRecord;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>
/// Hands the node's records to the OpenTelemetry .NET SDK, which batches them and sends them to a collector with its OTLP
/// exporter (<c>distsys.logging.otlp-endpoint</c>): an endpoint whose path ends in <c>/v1/logs</c> is OTLP/HTTP
/// (protobuf), any other OTLP/gRPC. Each record goes out with its body, severity, the node as the resource's service
/// instance, its attributes, its causal stamps (<c>distsys.hlc</c>, <c>distsys.lamport</c>, <c>distsys.vector</c>) and
/// its trace: the SDK takes the trace from the current activity, so the record is emitted inside a span of the record's
/// trace whose parent is the record's span (kept as <c>distsys.span_id</c>). The SDK never blocks the caller: its batch
/// processor drops beyond its own queue (2,048 records) and reports that in its self-diagnostics.
/// </summary>
public sealed class OtlpLogExport : IDisposable
{
    private readonly ILoggerFactory _factory;
    private readonly ILogger _logger;

    /// <param name="configure">Adds the exporter (tests may add another one; the node adds the OTLP exporter).</param>
    public OtlpLogExport(NodeId node, Action<OpenTelemetryLoggerOptions> configure)
    {
        _factory = LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(LogLevel.Trace);
            builder.AddOpenTelemetry(options =>
            {
                options.SetResourceBuilder(ResourceBuilder.CreateEmpty()
                    .AddService("distsys", serviceInstanceId: $"node-{node.Value}", autoGenerateServiceInstanceId: false)
                    .AddAttributes([new("distsys.node", node.Value)]));
                options.IncludeFormattedMessage = true;
                configure(options);
            });
        });
        _logger = _factory.CreateLogger("distsys");
    }

    /// <summary>An export to the collector at <paramref name="endpoint"/> (see the class remarks for the protocol).</summary>
    public static OtlpLogExport ToCollector(NodeId node, string endpoint) => new(node, options => options.AddOtlpExporter(o =>
    {
        o.Endpoint = new Uri(endpoint);
        o.Protocol = o.Endpoint.AbsolutePath.EndsWith("/v1/logs", StringComparison.Ordinal) ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
    }));

    public void Export(IEnumerable<LogRecord> records)
    {
        foreach (var record in records) Export(record);
    }

    public void Export(LogRecord r)
    {
        var state = new List<KeyValuePair<string, object?>>(r.AttributesOrEmpty.Count + 7)
        {
            new("distsys.record_id", r.Id),
            new("distsys.hlc", $"{r.Hlc.WallMs}.{r.Hlc.Logical}"),
            new("distsys.lamport", r.Lamport),
            new("distsys.timestamp_ms", r.TimestampMs),
        };
        if (r.SpanId is { } span) state.Add(new("distsys.span_id", span));
        if (r.Vector is { } vector) state.Add(new("distsys.vector", LogStore.FormatVector(vector)));
        foreach (var (key, value) in r.AttributesOrEmpty) state.Add(new(key, value));
        state.Add(new("{OriginalFormat}", r.Body));

        var previous = Activity.Current;
        Activity? activity = null;
        if (r.TraceId is { } trace)
        {
            Activity.Current = null;
            activity = new Activity("distsys.log");
            activity.SetParentId(ActivityTraceId.CreateFromString(trace), r.SpanId is { } s ? ActivitySpanId.CreateFromString(s) : default, ActivityTraceFlags.Recorded);
            activity.Start();
        }
        try
        {
            _logger.Log(LevelOf(r.Severity), default, state, null, static (s, _) => (string)s[^1].Value!);
        }
        finally
        {
            activity?.Stop();
            Activity.Current = previous;
        }
    }

    private static LogLevel LevelOf(Severity severity) => severity switch
    {
        Severity.Trace => LogLevel.Trace,
        Severity.Debug => LogLevel.Debug,
        Severity.Info => LogLevel.Information,
        Severity.Warn => LogLevel.Warning,
        Severity.Error => LogLevel.Error,
        _ => LogLevel.Critical,
    };

    /// <summary>Flushes what the SDK still holds and shuts the exporter down.</summary>
    public void Dispose() => _factory.Dispose();
}
