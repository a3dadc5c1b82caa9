using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core.Clocks;

namespace DistSysActors.Actors.Clocks;

/// <summary>How a node's clock service synchronizes its physical clock.</summary>
public enum ClockSyncMode
{
    /// <summary>Every node polls the reference node as an NTP-style server.</summary>
    Ntp,
    /// <summary>The reference node is the Berkeley master: it polls all nodes and sends each a delta.</summary>
    Berkeley,
}

/// <summary>The distsys.clock section.</summary>
public sealed record ClockSettings(
    bool Enabled, long SkewMs, double DriftPpm, int ReferenceNodeId, ClockSyncMode Mode, int PollIntervalMs, int RequestTimeoutMs, int SampleDelayMsMax,
    int BurstSamples, int BurstIntervalMs,
    long HlcMaxOffsetMs, double StepThresholdMs, double SlewRatePpmMax, double SyncedToleranceMs, double BerkeleyOutlierMs,
    int BerkeleyRoundTripMsMax)
{
    public const string Section = "distsys.clock";

    /// <summary>The service name clock messages use on the network component.</summary>
    public const string Service = "clock";

    public static ClockSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        var settings = new ClockSettings(
            Enabled: ConfigReader.Bool(c, Section, "enabled"),
            SkewMs: ConfigReader.Long(c, Section, "skew-ms", -86_400_000, 86_400_000),
            DriftPpm: ConfigReader.Double(c, Section, "drift-ppm", -InjectedSkew.DriftPpmMax, InjectedSkew.DriftPpmMax),
            ReferenceNodeId: ConfigReader.Int(c, Section, "reference-node-id", 1, 99),
            Mode: ConfigReader.String(c, Section, "mode", "ntp", "berkeley") == "ntp" ? ClockSyncMode.Ntp : ClockSyncMode.Berkeley,
            PollIntervalMs: ConfigReader.Int(c, Section, "poll-interval-ms", 10, 86_400_000),
            RequestTimeoutMs: ConfigReader.Int(c, Section, "request-timeout-ms", 1, 86_400_000),
            SampleDelayMsMax: ConfigReader.Int(c, Section, "sample-delay-ms-max", 0, 86_400_000),
            BurstSamples: ConfigReader.Int(c, Section, "burst-samples", 0, NtpClockFilter.DefaultSamplesMax),
            BurstIntervalMs: ConfigReader.Int(c, Section, "burst-interval-ms", 1, 86_400_000),
            HlcMaxOffsetMs: ConfigReader.Long(c, Section, "hlc-max-offset-ms", 1, 86_400_000),
            StepThresholdMs: ConfigReader.Double(c, Section, "step-threshold-ms", 0, 86_400_000),
            SlewRatePpmMax: ConfigReader.Double(c, Section, "slew-rate-ppm-max", 1, 100_000),
            SyncedToleranceMs: ConfigReader.Double(c, Section, "synced-tolerance-ms", 0, 86_400_000),
            BerkeleyOutlierMs: ConfigReader.Double(c, Section, "berkeley-outlier-ms", 0, 86_400_000),
            BerkeleyRoundTripMsMax: ConfigReader.Int(c, Section, "berkeley-round-trip-ms-max", 0, 86_400_000));
        if (settings.RequestTimeoutMs > settings.PollIntervalMs)
            throw new ConfigurationException($"{Section}.request-timeout-ms {settings.RequestTimeoutMs} must be at most {Section}.poll-interval-ms {settings.PollIntervalMs}");
        return settings;
    }

    /// <summary>Fails fast when the reference node is not one of <paramref name="nodes"/>.</summary>
    public void CheckReference(IEnumerable<Core.NodeId> nodes)
    {
        var all = nodes.Order().ToArray();
        if (Enabled && !all.Contains(new Core.NodeId(ReferenceNodeId)))
            throw new ConfigurationException($"{Section}.reference-node-id {ReferenceNodeId} is not one of the nodes {string.Join(", ", all)}");
    }

    public ClockDisciplineSettings Discipline => new() { StepThresholdMs = StepThresholdMs, SlewRatePpmMax = SlewRatePpmMax };

    public NtpClientSettings Ntp => new()
    {
        PollIntervalMs = PollIntervalMs,
        RequestTimeoutMs = RequestTimeoutMs,
        DelayMsMax = SampleDelayMsMax,
        SyncedToleranceMs = SyncedToleranceMs,
        Discipline = Discipline,
    };

    public BerkeleySettings Berkeley => new()
    {
        RoundIntervalMs = PollIntervalMs,
        RoundTimeoutMs = RequestTimeoutMs,
        RoundTripMsMax = BerkeleyRoundTripMsMax,
        OutlierDeviationMsMax = BerkeleyOutlierMs,
    };

}
