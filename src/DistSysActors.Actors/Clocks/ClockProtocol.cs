using DistSysActors.Core;
using DistSysActors.Core.Clocks;

namespace DistSysActors.Actors.Clocks;

/// <summary>Local messages of the clock service (<see cref="ClockActor"/>); its wire messages are the Core's NTP and Berkeley records.</summary>
public static class ClockProtocol
{
    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>
    /// What the clock service knows. <paramref name="OffsetMs"/> is the estimated raw local clock minus the reference
    /// (mode ntp: the reference node's clock; mode berkeley: the master's fault-tolerant average at the last round),
    /// <paramref name="ResidualOffsetMs"/> the same for the disciplined clock (what is still to correct).
    /// <paramref name="InjectedOffsetMs"/> and <paramref name="CorrectedOffsetMs"/> are the truth only a demonstration
    /// knows: raw minus host clock, and disciplined minus host clock.
    /// </summary>
    public sealed record ClockStatus(
        NodeId Self, ClockSyncMode Mode, NodeId ReferenceNodeId, long SkewMs, double DriftPpm, long InjectedOffsetMs,
        double? OffsetMs, double? ResidualOffsetMs, long? DelayMs, double? ErrorBoundMs, bool Synced,
        double CorrectionMs, double CorrectedOffsetMs, long CorrectedMs, long StepCount, long SamplesUsed,
        HlcTimestamp Hlc, long HlcMaxOffsetMs, long HlcRejected);
}
