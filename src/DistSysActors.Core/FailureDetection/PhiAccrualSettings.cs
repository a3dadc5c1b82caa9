namespace DistSysActors.Core.FailureDetection;

/// <summary>
/// Parameters of <see cref="PhiAccrualDetector"/>. Defaults are Akka.Cluster's
/// (<c>akka.cluster.failure-detector</c>): threshold 8, 1000 samples, 100 ms minimum standard
/// deviation, 3 s acceptable pause, first-heartbeat estimate equal to the 1 s heartbeat interval.
/// </summary>
public sealed record PhiAccrualSettings : FailureDetectorSettings
{
    public const double ThresholdMax = 1_000;
    public const long DurationMsMax = 600_000;

    /// <summary>Phi at or above which the peer is suspected; lower detects faster and errs more.</summary>
    public double Threshold { get; init; } = 8.0;

    /// <summary>Inter-arrival times kept for the mean and standard deviation.</summary>
    public int MaxSampleSize { get; init; } = 1_000;

    /// <summary>Floor on the standard deviation so a very regular history does not make phi jumpy.</summary>
    public long MinStdDeviationMs { get; init; } = 100;

    /// <summary>Silence tolerated on top of the mean inter-arrival time (lost heartbeats, GC pauses).</summary>
    public long AcceptableHeartbeatPauseMs { get; init; } = 3_000;

    /// <summary>Guess for the inter-arrival time before any is measured (normally the heartbeat interval).</summary>
    public long FirstHeartbeatEstimateMs { get; init; } = 1_000;

    public override IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        const string type = nameof(PhiAccrualSettings);
        if (!(Threshold > 0 && Threshold <= ThresholdMax))
            errors.Add($"{type}.{nameof(Threshold)} must be within (0, {ThresholdMax}], was {Threshold}");
        if (MaxSampleSize < 1 || MaxSampleSize > HeartbeatHistory.MaxSampleSizeMax)
            errors.Add($"{type}.{nameof(MaxSampleSize)} must be within 1..{HeartbeatHistory.MaxSampleSizeMax}, was {MaxSampleSize}");
        if (MinStdDeviationMs <= 0 || MinStdDeviationMs > DurationMsMax)
            errors.Add($"{type}.{nameof(MinStdDeviationMs)} must be within 1..{DurationMsMax}, was {MinStdDeviationMs}");
        if (AcceptableHeartbeatPauseMs < 0 || AcceptableHeartbeatPauseMs > DurationMsMax)
            errors.Add($"{type}.{nameof(AcceptableHeartbeatPauseMs)} must be within 0..{DurationMsMax}, was {AcceptableHeartbeatPauseMs}");
        if (FirstHeartbeatEstimateMs <= 0 || FirstHeartbeatEstimateMs > DurationMsMax)
            errors.Add($"{type}.{nameof(FirstHeartbeatEstimateMs)} must be within 1..{DurationMsMax}, was {FirstHeartbeatEstimateMs}");
        return errors;
    }

    public override IFailureDetector CreateDetector() => new PhiAccrualDetector(this);
}
