using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core.FailureDetection;

namespace DistSysActors.Actors.FailureDetection;

/// <summary>The distsys.failure-detector section: whether the heartbeat detector runs, its tick, and the core's settings.</summary>
public sealed record FailureDetectionSettings(bool Enabled, int TickMs, string Detector, HeartbeatSettings Heartbeat)
{
    public const string Section = "distsys.failure-detector";
    public const string PhiDetector = "phi";
    public const string FixedDetector = "fixed";

    public static FailureDetectionSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        var detector = ConfigReader.String(c, Section, "detector", PhiDetector, FixedDetector);
        FailureDetectorSettings detectorSettings = detector == PhiDetector
            ? new PhiAccrualSettings
            {
                Threshold = ConfigReader.Double(c, Section, "threshold", 0.001, PhiAccrualSettings.ThresholdMax),
                MaxSampleSize = ConfigReader.Int(c, Section, "max-sample-size", 1, HeartbeatHistory.MaxSampleSizeMax),
                MinStdDeviationMs = ConfigReader.Long(c, Section, "min-std-deviation-ms", 1, PhiAccrualSettings.DurationMsMax),
                AcceptableHeartbeatPauseMs = ConfigReader.Long(c, Section, "acceptable-heartbeat-pause-ms", 0, PhiAccrualSettings.DurationMsMax),
                FirstHeartbeatEstimateMs = ConfigReader.Long(c, Section, "first-heartbeat-estimate-ms", 1, PhiAccrualSettings.DurationMsMax),
            }
            : new FixedTimeoutSettings { TimeoutMs = ConfigReader.Long(c, Section, "fixed-timeout-ms", 1, FixedTimeoutSettings.TimeoutMsMax) };
        var intervalMs = ConfigReader.Long(c, Section, "heartbeat-interval-ms", 10, HeartbeatSettings.HeartbeatIntervalMsMax);
        var heartbeat = new HeartbeatSettings
        {
            HeartbeatIntervalMs = intervalMs,
            MonitoredByCount = ConfigReader.Int(c, Section, "monitored-by", 1, MonitoringRing.MembersMax - 1),
            // Akka's expected-response-after is its 1 s interval; keep one interval, at least 1 s for slow starts.
            ExpectedResponseAfterMs = Math.Max(intervalMs, 1_000),
            Detector = detectorSettings,
        };
        var errors = heartbeat.Validate();
        if (errors.Count > 0) throw new ConfigurationException($"{Section}: {string.Join("; ", errors)}");
        return new FailureDetectionSettings(
            Enabled: ConfigReader.Bool(c, Section, "enabled"),
            TickMs: ConfigReader.Int(c, Section, "tick-ms", 1, 60_000),
            Detector: detector,
            Heartbeat: heartbeat);
    }

}
