using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core.Logging;

namespace DistSysActors.Actors.LogPipeline;

/// <summary>The distsys.logging section (hocon/distsys.reference.conf documents every key).</summary>
public sealed record LoggingSettings(
    bool Enabled, int QueueRecordsMax, int StoreRecordsMax, int FlushIntervalMs, int FlushBatchMax, Severity MinSeverity, Severity AkkaMinSeverity,
    string StoreFile, string? OtlpEndpoint, int QueryTimeoutMs, int Aggregator = 0, int ShipBatchMax = 200, string AggregateStoreFile = "logs-aggregate.db")
{
    /// <summary>Whether records are shipped to one aggregator node (else each node keeps its own and queries fan out).</summary>
    public bool Aggregated => Aggregator > 0;

    public const string Section = "distsys.logging";

    public static LoggingSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        var otlp = ConfigReader.String(c, Section, "otlp-endpoint");
        if (otlp != "off" && !Uri.TryCreate(otlp, UriKind.Absolute, out _))
            throw new ConfigurationException($"{Section}.otlp-endpoint must be an absolute URI or \"off\", was '{otlp}'");
        var file = ConfigReader.String(c, Section, "store-file");
        return new LoggingSettings(
            Enabled: ConfigReader.Bool(c, Section, "enabled"),
            QueueRecordsMax: ConfigReader.Int(c, Section, "queue-records-max", 1, 10_000_000),
            StoreRecordsMax: ConfigReader.Int(c, Section, "store-records-max", 1, 100_000_000),
            FlushIntervalMs: ConfigReader.Int(c, Section, "flush-interval-ms", 1, 60_000),
            FlushBatchMax: ConfigReader.Int(c, Section, "flush-batch-max", 1, 1_000_000),
            MinSeverity: ParseSeverity(c, "min-severity"),
            AkkaMinSeverity: ParseSeverity(c, "akka-min-severity"),
            StoreFile: file,
            OtlpEndpoint: otlp != "off" ? otlp : null,
            QueryTimeoutMs: ConfigReader.Int(c, Section, "query-timeout-ms", 1, 600_000),
            Aggregator: ConfigReader.Int(c, Section, "aggregator", 0, Configuration.NodeSettings.NodesMax),
            ShipBatchMax: ConfigReader.Int(c, Section, "ship-batch-max", 1, 10_000),
            AggregateStoreFile: ConfigReader.String(c, Section, "aggregate-store-file"));
    }

    private static Severity ParseSeverity(Config c, string key)
    {
        var text = ConfigReader.String(c, Section, key);
        return SeverityText.TryParse(text) ?? throw new ConfigurationException($"{Section}.{key} must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, was '{text}'");
    }
}
