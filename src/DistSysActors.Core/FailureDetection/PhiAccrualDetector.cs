namespace DistSysActors.Core.FailureDetection;

/// <summary>
/// The phi accrual failure detector (Hayashibara, Défago, Yared, Katayama, "The φ Accrual Failure
/// Detector", SRDS 2004), with the semantics of Akka.Remote's <c>PhiAccrualFailureDetector</c>:
/// phi = −log10(1 − F(t)), where t is the time since the last heartbeat and F the normal CDF with the
/// history's mean plus the acceptable pause and its standard deviation (at least the minimum).
/// Given the same arrival times and settings, phi agrees with Akka's.
/// </summary>
public sealed class PhiAccrualDetector : IFailureDetector
{
    public PhiAccrualDetector(PhiAccrualSettings settings)
    {
        settings.EnsureValid();
        Settings = settings;
        History = FirstHeartbeatHistory(settings);
    }

    public PhiAccrualSettings Settings { get; }

    /// <summary>Inter-arrival times so far, seeded with two guesses around the first-heartbeat estimate.</summary>
    public HeartbeatHistory History { get; private set; }

    public long? LastHeartbeatMs { get; private set; }
    public bool IsMonitoring => LastHeartbeatMs.HasValue;

    public void Heartbeat(long nowMs)
    {
        if (LastHeartbeatMs is { } last)
        {
            // The first heartbeat after a suspicion is left out of the history: the long gap would skew it.
            if (IsAvailable(nowMs))
                History = History.Add(Math.Clamp(nowMs - last, 0, HeartbeatHistory.IntervalMsMax));
        }
        else
        {
            History = FirstHeartbeatHistory(Settings);
        }
        LastHeartbeatMs = nowMs;
    }

    public bool IsAvailable(long nowMs) => CurrentPhi(nowMs) < Settings.Threshold;

    double? IFailureDetector.Phi(long nowMs) => CurrentPhi(nowMs);

    /// <summary>Phi at <paramref name="nowMs"/>; 0 before the first heartbeat (an unmonitored peer is healthy).</summary>
    public double CurrentPhi(long nowMs)
    {
        if (LastHeartbeatMs is not { } last) return 0.0;
        var meanMs = History.MeanMs + Settings.AcceptableHeartbeatPauseMs;
        var stdDeviationMs = Math.Max(History.StdDeviationMs, Settings.MinStdDeviationMs);
        return Phi(nowMs - last, meanMs, stdDeviationMs);
    }

    /// <summary>
    /// −log10(1 − F(elapsed)) for F the CDF of N(mean, stdDeviation), using the logistic approximation
    /// F(y) ≈ 1 / (1 + e^(−y(1.5976 + 0.070566 y²))) with y = (elapsed − mean) / stdDeviation
    /// (Bowling et al. 2009; error about 1.4e-4 at |y| = 3.16). The two branches keep precision in each tail.
    /// </summary>
    public static double Phi(long elapsedMs, double meanMs, double stdDeviationMs)
    {
        var y = (elapsedMs - meanMs) / stdDeviationMs;
        var e = Math.Exp(-y * (1.5976 + 0.070566 * y * y));
        // Upper tail: 1 − F = e / (1 + e) directly, which stays exact where 1 − F would round to 0.
        return elapsedMs > meanMs
            ? -Math.Log10(e / (1.0 + e))
            : -Math.Log10(1.0 - 1.0 / (1.0 + e));
    }

    /// <summary>Two intervals at estimate ± estimate/4: a wide start, so a peer that sends one heartbeat and dies is still suspected.</summary>
    private static HeartbeatHistory FirstHeartbeatHistory(PhiAccrualSettings settings)
    {
        var meanMs = settings.FirstHeartbeatEstimateMs;
        var stdDeviationMs = meanMs / 4;
        return HeartbeatHistory.Empty(settings.MaxSampleSize).Add(meanMs - stdDeviationMs).Add(meanMs + stdDeviationMs);
    }
}
