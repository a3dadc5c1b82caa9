using DistSysActors.Actors.Clocks;

namespace DistSysActors.Node.Http;

internal static class ClockDtos
{
    public static ClockDto From(ClockProtocol.ClockStatus s) => new(
        s.SkewMs, s.ReferenceNodeId.Value, s.OffsetMs, s.DelayMs, new HlcDto(s.Hlc.WallMs, s.Hlc.Logical), s.Synced,
        s.Mode == ClockSyncMode.Ntp ? "ntp" : "berkeley", s.DriftPpm, s.InjectedOffsetMs, s.ResidualOffsetMs, s.ErrorBoundMs, s.CorrectionMs,
        s.CorrectedOffsetMs, s.CorrectedMs, s.StepCount, s.SamplesUsed, s.HlcMaxOffsetMs, s.HlcRejected);
}
