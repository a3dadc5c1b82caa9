using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.Clocks;

/// <summary>A message of a node's clock service: NTP-style (<see cref="NtpMessage"/>) or Berkeley (<see cref="BerkeleyMessage"/>).</summary>
public abstract record ClockMessage(NodeId From) : IWireSerialized;

/// <summary>The initial burst of an NTP-style client (ntpd's iburst): <paramref name="Samples"/> 0 disables it.</summary>
public sealed record ClockBurstSettings(int Samples, long IntervalMs, long RequestTimeoutMs, long SampleDelayMsMax);

/// <summary>The NTP client took a sample from <paramref name="From"/> and adjusted the clock.</summary>
public sealed record NtpAdjusted(NodeId From, ClockAdjustment Adjustment);

/// <summary>The initial burst ended: <paramref name="Best"/> is its least-delay sample (null if none was usable) and <paramref name="Adjustment"/> what it did.</summary>
public sealed record BurstFinished(NodeId Reference, int Samples, long Requests, NtpSample? Best, ClockAdjustment? Adjustment);

/// <summary>What a node's clock service knows, for <c>/status</c>; see <c>ClockProtocol.ClockStatus</c> for the meaning of each field.</summary>
public sealed record ClockSyncStatus(
    double? OffsetMs, double? ResidualOffsetMs, long? DelayMs, double? ErrorBoundMs, bool Synced,
    double CorrectionMs, long CorrectedMs, long StepCount, long SamplesUsed);

/// <summary>
/// A node's clock service as one core: an NTP-style client of the reference node (after an initial burst), or a
/// Berkeley node (member, plus master on the reference node); every node answers NTP requests from its disciplined
/// clock. <c>nowMs</c> is the node's raw physical clock. Answers: <see cref="NtpAdjusted"/>, <see cref="BerkeleyAdjusted"/>,
/// <see cref="BerkeleyRound"/>, <see cref="BurstFinished"/>.
/// </summary>
public sealed class ClockSync : IProtocolCore<ClockMessage, ProtocolReady<ClockMessage>>
{
    private readonly ReadyBuffer<ClockMessage> _ready = new();
    private readonly NtpClient? _ntp;
    private readonly BerkeleyNode? _berkeley;
    private readonly double _syncedToleranceMs;
    private readonly ClockBurstSettings? _burstSettings;
    private readonly NtpClockFilter? _burst;
    private bool _burstDone;
    private (long RequestId, long T1Ms)? _burstPending;
    private long _burstRequests, _burstLastSentMs = long.MinValue;
    private double? _berkeleyLastDeltaMs;
    private long _berkeleyAdjustments;

    private ClockSync(NodeId self, NodeId reference, NtpClient? ntp, ClockBurstSettings? burst, BerkeleyNode? berkeley, double syncedToleranceMs)
    {
        Self = self;
        Reference = reference;
        _ntp = ntp;
        _berkeley = berkeley;
        _syncedToleranceMs = syncedToleranceMs;
        if (ntp is not null && burst is { Samples: > 0 })
        {
            _burstSettings = burst;
            _burst = new NtpClockFilter(burst.Samples);
        }
    }

    /// <summary>NTP-style: the reference node runs no client (its synchronized time is its raw time), every other node polls it.</summary>
    public static ClockSync Ntp(NodeId self, NodeId reference, NtpClientSettings settings, ClockBurstSettings burst) =>
        new(self, reference, self == reference ? null : new NtpClient(self, reference, settings), burst, null, settings.SyncedToleranceMs);

    /// <summary>Berkeley: every node is a member; the reference node is also the master of <paramref name="nodes"/>.</summary>
    public static ClockSync Berkeley(NodeId self, NodeId reference, IEnumerable<NodeId> nodes, ClockDisciplineSettings discipline, BerkeleySettings settings,
        double syncedToleranceMs) =>
        new(self, reference, null, null,
            new BerkeleyNode(new BerkeleyMember(self, discipline), self == reference ? new BerkeleyMaster(self, nodes.Order(), settings) : null),
            syncedToleranceMs);

    public NodeId Self { get; }
    public NodeId Reference { get; }

    /// <summary>The clock this service steers, or null on an NTP reference node (raw time is its time).</summary>
    public DisciplinedClock? Disciplined => _ntp?.Clock ?? _berkeley?.Member.Clock;

    /// <summary>Synchronized time at raw time <paramref name="rawNowMs"/>.</summary>
    public long ReadMs(long rawNowMs) => Disciplined?.ReadMs(rawNowMs) ?? rawNowMs;

    public void Tick(long rawNowMs)
    {
        if (_burst is not null && !_burstDone) BurstTick(rawNowMs);
        else if (_ntp is not null) _ntp.Tick(rawNowMs);
        else _berkeley?.Tick(rawNowMs);
        Collect();
    }

    public void Step(ClockMessage message, long rawNowMs)
    {
        switch (message)
        {
            case NtpRequest request:
                // Any node answers from its own disciplined clock; only the reference node is asked in the default setup.
                var reply = NtpServer.Respond(Self, request, ReadMs(rawNowMs), ReadMs(rawNowMs));
                _ready.Send(reply.To, reply.Message);
                break;
            case NtpResponse response when _ntp is not null:
                if (response.RequestId < 0) OnBurstResponse(response, rawNowMs);
                else if (_ntp.Handle(response, rawNowMs) is { } adjustment) _ready.Answer(new NtpAdjusted(response.From, adjustment));
                break;
            case BerkeleyMessage berkeley when _berkeley is not null:
                _berkeley.Step(berkeley, rawNowMs);
                break;
        }
        Collect();
    }

    public bool HasReady => _ready.HasReady;

    public ProtocolReady<ClockMessage> TakeReady() => _ready.Take();

    public void Advance(ProtocolReady<ClockMessage> ready) => _ready.Advance(ready);

    public IReadOnlyList<string> CheckInvariants() => [.. _ntp?.CheckInvariants() ?? [], .. _berkeley?.CheckInvariants() ?? []];

    public ClockSyncStatus Status(long rawNowMs)
    {
        var correctedMs = Disciplined?.ReadMs(rawNowMs) ?? rawNowMs;
        var correctionMs = Disciplined?.CorrectionMs ?? 0;
        var stepCount = Disciplined?.StepCount ?? 0;
        if (_ntp is not null)
        {
            var s = _ntp.Status(rawNowMs);
            return new(s.RawOffsetMs, s.OffsetMs, s.DelayMs, s.ErrorBoundMs, s.Synced, correctionMs, correctedMs, stepCount, s.SamplesUsed);
        }
        if (_berkeley is not null)
        {
            // Berkeley's reference is the master's average; the last delta moved this clock onto it.
            var pending = _berkeley.Member.Clock.PendingSlewMs;
            return new(-_berkeleyLastDeltaMs, -pending, null, null,
                _berkeleyAdjustments > 0 && Math.Abs(pending) <= _syncedToleranceMs, correctionMs, correctedMs, stepCount, _berkeleyAdjustments);
        }
        return new(0.0, 0.0, null, null, true, correctionMs, correctedMs, stepCount, 0);
    }

    /// <summary>
    /// The initial burst: requests with negative ids, outside the client's own sequence, every burst interval until the
    /// filter holds the burst's samples. A burst whose samples are too slow or lost ends after four times as many
    /// requests, so faults cannot stall synchronization.
    /// </summary>
    private void BurstTick(long raw)
    {
        var settings = _burstSettings!;
        if (_burstPending is { } p && raw - p.T1Ms < settings.RequestTimeoutMs && raw >= p.T1Ms) return;
        if (_burstRequests >= BurstRequestsMax) { FinishBurst(raw); return; }
        if (_burstLastSentMs != long.MinValue && raw - _burstLastSentMs < settings.IntervalMs && raw >= _burstLastSentMs) return;
        var id = -++_burstRequests;
        _burstPending = (id, raw);
        _burstLastSentMs = raw;
        _ready.Send(Reference, new NtpRequest(Self, id, raw));
    }

    private long BurstRequestsMax => 4L * _burstSettings!.Samples;

    private void OnBurstResponse(NtpResponse response, long raw)
    {
        if (_burst is null || _burstDone || _burstPending is not { } p || p.RequestId != response.RequestId || p.T1Ms != response.T1Ms || response.From != Reference) return;
        _burstPending = null;
        var sample = new NtpSample(response.T1Ms, response.T2Ms, response.T3Ms, raw);
        if (sample.DelayMs >= 0 && sample.DelayMs <= _burstSettings!.SampleDelayMsMax) _burst.Add(sample);
        if (_burst.Count >= _burst.SamplesMax || _burstRequests >= BurstRequestsMax) FinishBurst(raw);
    }

    /// <summary>Sets the clock from the burst's least-delay sample, then hands over to the NTP client's regular polls.</summary>
    private void FinishBurst(long raw)
    {
        if (_burst is null || _ntp is null) return;
        _burstDone = true;
        var best = _burst.Best;
        ClockAdjustment? adjustment = best is { } b ? _ntp.Clock.SteerTo(b.OffsetMs, raw) : null;
        _ready.Answer(new BurstFinished(Reference, _burst.Count, _burstRequests, best, adjustment));
    }

    /// <summary>Moves the inner cores' effects into this core's Ready, noting Berkeley adjustments for the status.</summary>
    private void Collect()
    {
        if (_ntp is { HasReady: true }) Forward(_ntp.TakeReady(), _ntp.Advance, m => m);
        if (_berkeley is { HasReady: true }) Forward(_berkeley.TakeReady(), _berkeley.Advance, m => m);
    }

    private void Forward<TMessage>(ProtocolReady<TMessage> ready, Action<ProtocolReady<TMessage>> advance, Func<TMessage, ClockMessage> message)
    {
        advance(ready);
        foreach (var o in ready.MessagesAfterPersist) _ready.Send(o.To, message(o.Message));
        foreach (var answer in ready.Answers)
        {
            switch (answer)
            {
                // The NTP client's own adjustments are answered by Step with their source.
                case ClockAdjustment: continue;
                case BerkeleyAdjusted adjusted:
                    _berkeleyLastDeltaMs = adjusted.DeltaMs;
                    _berkeleyAdjustments++;
                    break;
            }
            _ready.Answer(answer);
        }
    }
}
