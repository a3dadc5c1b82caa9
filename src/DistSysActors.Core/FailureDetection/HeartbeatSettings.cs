namespace DistSysActors.Core.FailureDetection;

/// <summary>
/// Settings of the heartbeat protocol; defaults follow <c>akka.cluster.failure-detector</c>
/// (1 s interval, monitored by 9, first response expected within 1 s, phi accrual).
/// </summary>
public sealed record HeartbeatSettings
{
    public const long HeartbeatIntervalMsMax = 600_000;

    public long HeartbeatIntervalMs { get; init; } = 1_000;

    /// <summary>How many other nodes monitor each node; capped at N − 1 by the ring.</summary>
    public int MonitoredByCount { get; init; } = 9;

    /// <summary>
    /// If a newly monitored peer has not answered this long after the first request, monitoring starts
    /// anyway, so a peer that is dead from the start is still suspected.
    /// </summary>
    public long ExpectedResponseAfterMs { get; init; } = 1_000;

    public FailureDetectorSettings Detector { get; init; } = new PhiAccrualSettings();

    /// <summary>Every problem with these settings, each naming its field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        const string type = nameof(HeartbeatSettings);
        if (HeartbeatIntervalMs <= 0 || HeartbeatIntervalMs > HeartbeatIntervalMsMax)
            errors.Add($"{type}.{nameof(HeartbeatIntervalMs)} must be within 1..{HeartbeatIntervalMsMax}, was {HeartbeatIntervalMs}");
        if (MonitoredByCount < 1 || MonitoredByCount >= MonitoringRing.MembersMax)
            errors.Add($"{type}.{nameof(MonitoredByCount)} must be within 1..{MonitoringRing.MembersMax - 1}, was {MonitoredByCount}");
        if (ExpectedResponseAfterMs <= 0 || ExpectedResponseAfterMs > HeartbeatIntervalMsMax)
            errors.Add($"{type}.{nameof(ExpectedResponseAfterMs)} must be within 1..{HeartbeatIntervalMsMax}, was {ExpectedResponseAfterMs}");
        if (Detector is null) errors.Add($"{type}.{nameof(Detector)} must be set");
        else errors.AddRange(Detector.Validate());
        return errors;
    }

    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
    }
}
