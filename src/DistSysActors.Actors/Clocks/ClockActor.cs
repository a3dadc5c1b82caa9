using Akka.Actor;
using Akka.Event;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Clocks;

/// <summary>
/// A node's clock service: disciplines the node's <see cref="NodeClock"/> with an NTP-style client polling the
/// reference node (which answers as the server), or as a Berkeley member of the reference node's master. All its
/// traffic goes through the network component, so injected faults (delay, drop, partition) apply to it.
/// </summary>
public sealed class ClockActor : ReceiveActor, IWithTimers
{
    private readonly NodeId _self;
    private readonly NodeId _reference;
    private readonly ClockSettings _settings;
    private readonly IActorRef _network;
    private readonly NodeClock _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly NtpClient? _ntp;
    private readonly BerkeleyMember? _member;
    private readonly BerkeleyMaster? _master;
    private readonly DisciplinedClock? _disciplined;
    private readonly NtpClockFilter? _burst;
    private bool _burstDone;
    private (long RequestId, long T1Ms)? _burstPending;
    private long _burstRequests, _burstLastSentMs = long.MinValue;
    private double? _berkeleyLastDeltaMs;
    private long _berkeleyAdjustments;
    private bool _reportedSynced;

    public ITimerScheduler Timers { get; set; } = null!;

    public ClockActor(NodeId self, IReadOnlyCollection<NodeId> nodes, ClockSettings settings, IActorRef network, NodeClock clock)
    {
        _self = self;
        _reference = new NodeId(settings.ReferenceNodeId);
        _settings = settings;
        _network = network;
        _clock = clock;
        if (!nodes.Contains(_reference))
            throw new ArgumentException($"{ClockSettings.Section}.reference-node-id {_reference} is not one of the nodes {string.Join(", ", nodes.Order())}");

        if (settings.Mode == ClockSyncMode.Ntp)
        {
            // The reference node runs no client: its synchronized time is its raw time.
            if (self != _reference)
            {
                var ntp = new NtpClient(self, _reference, settings.Ntp);
                _ntp = ntp;
                if (settings.BurstSamples > 0) _burst = new NtpClockFilter(settings.BurstSamples);
                _disciplined = ntp.Clock;
                clock.Discipline(ntp.ReadMs);
            }
        }
        else
        {
            var member = new BerkeleyMember(self, settings.Discipline);
            _member = member;
            _disciplined = member.Clock;
            clock.Discipline(member.ReadMs);
            if (self == _reference) _master = new BerkeleyMaster(self, nodes.Order(), settings.Berkeley);
        }

        Receive<NtpRequest>(OnNtpRequest);
        Receive<NtpResponse>(OnNtpResponse);
        Receive<BerkeleyPoll>(p => SendAll(_clock.Synchronized(raw => { _member?.Handle(p, raw); return _member is null ? [] : Take(_member); })));
        Receive<BerkeleyTimeReport>(r => SendAll(_clock.Synchronized(raw =>
        {
            if (_master is null || _member is null) return [];
            _master.Handle(r, _member.ReadMs(raw));
            return Take(_master);
        })));
        Receive<BerkeleyAdjust>(OnBerkeleyAdjust);
        Receive<Tick>(_ => OnTick());
        Receive<ClockProtocol.GetStatus>(_ => Sender.Tell(Status()));

        _network.Tell(new NetworkProtocol.Register(ClockSettings.Service, Self));
        var tickMs = Math.Clamp(Math.Min(settings.PollIntervalMs / 5, settings.BurstIntervalMs), 10, 200);
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, TimeSpan.Zero, TimeSpan.FromMilliseconds(tickMs));
        _log.Info("clock of node {0}: skew {1} ms, drift {2} ppm, {3} against reference node {4}",
            self, settings.SkewMs, settings.DriftPpm, settings.Mode, _reference);
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> nodes, ClockSettings settings, IActorRef network, NodeClock clock) =>
        Akka.Actor.Props.Create(() => new ClockActor(self, nodes, settings, network, clock));

    private void OnTick()
    {
        if (_burst is not null && !_burstDone) BurstTick();
        else if (_ntp is not null)
            SendAll(_clock.Synchronized(raw => { _ntp.Tick(raw); return Take(_ntp); }));
        else if (_master is not null && _member is not null)
            SendAll(_clock.Synchronized(raw => { _master.Tick(_member.ReadMs(raw)); return Take(_master); }));
        ReportSynced();
    }

    private void OnNtpRequest(NtpRequest request)
    {
        // Any node answers from its own disciplined clock; only the reference node is asked in the default setup.
        var receiveMs = _clock.ReadMs();
        var reply = NtpServer.Respond(_self, request, receiveMs, _clock.ReadMs());
        _network.Tell(new NetworkProtocol.Send(reply.To, ClockSettings.Service, reply.Message));
    }

    private void OnNtpResponse(NtpResponse response)
    {
        if (_ntp is null) return;
        if (response.RequestId < 0) { OnBurstResponse(response); return; }
        var adjustment = _clock.Synchronized(raw => _ntp.Handle(response, raw));
        if (adjustment is { Kind: not ClockAdjustmentKind.Slew } a)
            _log.Info("clock of node {0}: {1} of {2:0.###} ms after an NTP sample from node {3}", _self, a.Kind, a.DeltaMs, response.From);
    }

    private void OnBerkeleyAdjust(BerkeleyAdjust adjust)
    {
        if (_member is null) return;
        var adjustment = _clock.Synchronized(raw => _member.Handle(adjust, raw));
        if (adjustment is not { } a) return;
        _berkeleyLastDeltaMs = adjust.DeltaMs;
        _berkeleyAdjustments++;
        if (a.Kind != ClockAdjustmentKind.Slew)
            _log.Info("clock of node {0}: {1} of {2:0.###} ms in Berkeley round {3}", _self, a.Kind, a.DeltaMs, adjust.Round);
    }

    /// <summary>
    /// The initial burst (ntpd's iburst): requests with negative ids, outside the client's own sequence, every
    /// burst interval until the filter holds <see cref="ClockSettings.BurstSamples"/> usable samples.
    /// </summary>
    private void BurstTick()
    {
        var raw = _clock.RawMs();
        if (_burstPending is { } p && raw - p.T1Ms < _settings.RequestTimeoutMs && raw >= p.T1Ms) return;
        if (_burstRequests >= BurstRequestsMax) { FinishBurst(); return; }
        if (_burstLastSentMs != long.MinValue && raw - _burstLastSentMs < _settings.BurstIntervalMs && raw >= _burstLastSentMs) return;
        var id = -++_burstRequests;
        _burstPending = (id, raw);
        _burstLastSentMs = raw;
        _network.Tell(new NetworkProtocol.Send(_reference, ClockSettings.Service, new NtpRequest(_self, id, raw)));
    }

    /// <summary>Sets the clock from the burst's least-delay sample, then hands over to the NTP client's regular polls.</summary>
    private void OnBurstResponse(NtpResponse response)
    {
        if (_burst is null || _burstDone || _ntp is null || _burstPending is not { } p || p.RequestId != response.RequestId || p.T1Ms != response.T1Ms || response.From != _reference) return;
        _burstPending = null;
        var raw = _clock.RawMs();
        var sample = new NtpSample(response.T1Ms, response.T2Ms, response.T3Ms, raw);
        if (sample.DelayMs >= 0 && sample.DelayMs <= _settings.SampleDelayMsMax) _burst.Add(sample);
        if (_burst.Count >= _burst.SamplesMax || _burstRequests >= BurstRequestsMax) FinishBurst();
    }

    private void FinishBurst()
    {
        if (_burst is null || _ntp is null) return;
        _burstDone = true;
        if (_burst.Best is not { } best)
        {
            _log.Warning("clock of node {0}: no usable sample in {1} burst requests to node {2}; regular polling takes over", _self, _burstRequests, _reference);
            return;
        }
        var adjustment = _clock.Synchronized(now => _ntp.Clock.SteerTo(best.OffsetMs, now));
        _log.Info("clock of node {0}: initial burst of {1} samples, least delay {2} ms: {3} of {4:0.###} ms",
            _self, _burst.Count, best.DelayMs, adjustment.Kind, adjustment.DeltaMs);
    }

    /// <summary>A burst whose samples are too slow or lost ends after this many requests, so faults cannot stall synchronization.</summary>
    private long BurstRequestsMax => 4L * _settings.BurstSamples;

    /// <summary>Sends a core's outgoing messages; a Berkeley delta the master addresses to itself goes straight to its own member.</summary>
    private void SendAll(IReadOnlyList<Outgoing<NtpMessage>> outgoing)
    {
        foreach (var o in outgoing) _network.Tell(new NetworkProtocol.Send(o.To, ClockSettings.Service, o.Message));
    }

    private void SendAll(IReadOnlyList<Outgoing<BerkeleyMessage>> outgoing)
    {
        foreach (var o in outgoing)
        {
            if (o.To == _self && o.Message is BerkeleyAdjust own) OnBerkeleyAdjust(own);
            else _network.Tell(new NetworkProtocol.Send(o.To, ClockSettings.Service, o.Message));
        }
    }

    private void ReportSynced()
    {
        if (_reportedSynced || _self == _reference) return;
        var s = Status();
        if (!s.Synced) return;
        _reportedSynced = true;
        _log.Info("clock of node {0} synced to node {1}: estimated offset {2:0.###} ms, delay {3} ms", _self, _reference, s.OffsetMs, s.DelayMs);
    }

    private ClockProtocol.ClockStatus Status()
    {
        var injected = _clock.InjectedOffsetMs();
        var hlc = _clock.Hlc;
        var (offset, residual, delay, errorBound, synced, correction, corrected, steps, used) = _clock.Synchronized(raw =>
        {
            var correctedMs = _disciplined?.ReadMs(raw) ?? raw;
            var correctionMs = _disciplined?.CorrectionMs ?? 0;
            var stepCount = _disciplined?.StepCount ?? 0;
            if (_ntp is not null)
            {
                var s = _ntp.Status(raw);
                return (s.RawOffsetMs, s.OffsetMs, s.DelayMs, s.ErrorBoundMs, s.Synced, correctionMs, correctedMs, stepCount, s.SamplesUsed);
            }
            if (_member is not null)
            {
                // Berkeley's reference is the master's average; the last delta moved this clock onto it.
                var pending = _member.Clock.PendingSlewMs;
                return (-_berkeleyLastDeltaMs, (double?)-pending, (long?)null, (double?)null,
                    _berkeleyAdjustments > 0 && Math.Abs(pending) <= _settings.SyncedToleranceMs, correctionMs, correctedMs, stepCount, _berkeleyAdjustments);
            }
            return ((double?)0.0, (double?)0.0, (long?)null, (double?)null, true, correctionMs, correctedMs, stepCount, 0L);
        });
        return new ClockProtocol.ClockStatus(_self, _settings.Mode, _reference, _clock.Skew.SkewMs, _clock.Skew.DriftPpm, injected,
            offset, residual, delay, errorBound, synced, correction, injected + correction, corrected, steps, used,
            hlc, _clock.HlcMaxOffsetMs, _clock.HlcRejected);
    }

    /// <summary>A clock core's messages; its answers (adjustments, rounds) are read from the cores themselves.</summary>
    private static IReadOnlyList<Outgoing<TMessage>> Take<TMessage>(IProtocolCore<TMessage, ProtocolReady<TMessage>> core)
    {
        var ready = core.TakeReady();
        core.Advance(ready);
        return ready.MessagesAfterPersist;
    }

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }
}
