namespace DistSysActors.Core.FailureDetection;

/// <summary>
/// A failure detector for one monitored peer. Time enters as <c>nowMs</c> from a monotonic clock owned
/// by the host, so the same detector runs under a scripted clock in tests and the simulator.
/// </summary>
public interface IFailureDetector
{
    /// <summary>True once the first heartbeat has arrived; until then the peer counts as available.</summary>
    bool IsMonitoring { get; }

    /// <summary>Arrival time of the latest heartbeat, or null before the first.</summary>
    long? LastHeartbeatMs { get; }

    /// <summary>Records a heartbeat arriving at <paramref name="nowMs"/>.</summary>
    void Heartbeat(long nowMs);

    /// <summary>The detector's verdict at <paramref name="nowMs"/>.</summary>
    bool IsAvailable(long nowMs);

    /// <summary>Suspicion level at <paramref name="nowMs"/> for detectors that accrue one (phi), otherwise null.</summary>
    double? Phi(long nowMs);
}

/// <summary>Parameters of a failure detector; each kind creates fresh detectors for newly monitored peers.</summary>
public abstract record FailureDetectorSettings
{
    /// <summary>Every problem with these settings, each naming its field; empty when valid.</summary>
    public abstract IReadOnlyList<string> Validate();

    public abstract IFailureDetector CreateDetector();

    /// <summary>Throws naming every bad field, so a misconfigured node fails at start rather than later.</summary>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
    }
}
