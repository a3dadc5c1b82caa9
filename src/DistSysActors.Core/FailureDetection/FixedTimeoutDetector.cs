namespace DistSysActors.Core.FailureDetection;

/// <summary>Settings of <see cref="FixedTimeoutDetector"/>.</summary>
public sealed record FixedTimeoutSettings : FailureDetectorSettings
{
    public const long TimeoutMsMax = 3_600_000;

    /// <summary>Longest silence after a heartbeat that still counts as available.</summary>
    public long TimeoutMs { get; init; } = 4_000;

    public override IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (TimeoutMs <= 0 || TimeoutMs > TimeoutMsMax)
            errors.Add($"{nameof(FixedTimeoutSettings)}.{nameof(TimeoutMs)} must be within 1..{TimeoutMsMax}, was {TimeoutMs}");
        return errors;
    }

    public override IFailureDetector CreateDetector() => new FixedTimeoutDetector(this);
}

/// <summary>
/// The classic timeout detector: a peer is available iff <c>nowMs - lastHeartbeatMs &lt;= TimeoutMs</c>.
/// A peer never heard from counts as available (nothing is being monitored yet), as with phi accrual.
/// </summary>
public sealed class FixedTimeoutDetector : IFailureDetector
{
    public FixedTimeoutDetector(FixedTimeoutSettings settings)
    {
        settings.EnsureValid();
        Settings = settings;
    }

    public FixedTimeoutSettings Settings { get; }
    public bool IsMonitoring => LastHeartbeatMs.HasValue;
    public long? LastHeartbeatMs { get; private set; }

    public void Heartbeat(long nowMs) => LastHeartbeatMs = nowMs;

    public bool IsAvailable(long nowMs) => LastHeartbeatMs is not { } last || nowMs - last <= Settings.TimeoutMs;

    public double? Phi(long nowMs) => null;
}
