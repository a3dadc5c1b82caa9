using Akka.Actor;
using Akka.Event;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.Clocks;

/// <summary>
/// A node's clock service: hosts a <see cref="ClockSync"/> core that disciplines the node's <see cref="NodeClock"/> with an
/// NTP-style client polling the reference node (which answers as the server), or as a Berkeley member of the reference
/// node's master. All its traffic goes through the network component, so injected faults (delay, drop, partition) apply to it.
/// </summary>
public sealed class ClockActor : ProtocolHostActor<ClockMessage, ProtocolReady<ClockMessage>>
{
    private readonly NodeId _reference;
    private readonly ClockSettings _settings;
    private readonly NodeClock _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ClockSync _sync;
    private bool _reportedSynced;

    public ClockActor(NodeId self, IReadOnlyCollection<NodeId> nodes, ClockSettings settings, IActorRef network, NodeClock clock)
        : base(self, new ProtocolHostSettings(ClockSettings.Service,
            TickInterval: TimeSpan.FromMilliseconds(Math.Clamp(Math.Min(settings.PollIntervalMs / 5, settings.BurstIntervalMs), 10, 200)),
            FirstTickAfter: TimeSpan.Zero), network, clock.RawMs)
    {
        _reference = new NodeId(settings.ReferenceNodeId);
        _settings = settings;
        _clock = clock;
        if (!nodes.Contains(_reference))
            throw new ArgumentException($"{ClockSettings.Section}.reference-node-id {_reference} is not one of the nodes {string.Join(", ", nodes.Order())}");

        _sync = settings.Mode == ClockSyncMode.Ntp
            ? ClockSync.Ntp(self, _reference, settings.Ntp,
                new ClockBurstSettings(settings.BurstSamples, settings.BurstIntervalMs, settings.RequestTimeoutMs, settings.SampleDelayMsMax))
            : ClockSync.Berkeley(self, _reference, nodes, settings.Discipline, settings.Berkeley, settings.SyncedToleranceMs);
        if (_sync.Disciplined is not null) clock.Discipline(_sync.ReadMs);

        Receive<ClockMessage>(StepCore);
        ReceiveStatus<ClockProtocol.GetStatus>(Status);
        Start();
        _log.Info("clock of node {0}: skew {1} ms, drift {2} ppm, {3} against reference node {4}",
            self, settings.SkewMs, settings.DriftPpm, settings.Mode, _reference);
    }

    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> nodes, ClockSettings settings, IActorRef network, NodeClock clock) =>
        Akka.Actor.Props.Create(() => new ClockActor(self, nodes, settings, network, clock));

    protected override IProtocolCore<ClockMessage, ProtocolReady<ClockMessage>> Core => _sync;

    /// <summary>The core's disciplined clock is read by the network component's HLC too: change it under the clock's lock.</summary>
    protected override void Drive(Action<long> call) => _clock.Synchronized(raw =>
    {
        call(raw);
        return 0;
    });

    protected override void OnTick()
    {
        base.OnTick();
        ReportSynced();
    }

    public override void Answer(object answer)
    {
        switch (answer)
        {
            case NtpAdjusted { Adjustment: { Kind: not ClockAdjustmentKind.Slew } a } n:
                _log.Info("clock of node {0}: {1} of {2:0.###} ms after an NTP sample from node {3}", Node, a.Kind, a.DeltaMs, n.From);
                break;
            case BerkeleyAdjusted { Adjustment: { Kind: not ClockAdjustmentKind.Slew } a } b:
                _log.Info("clock of node {0}: {1} of {2:0.###} ms in Berkeley round {3}", Node, a.Kind, a.DeltaMs, b.Round);
                break;
            case BurstFinished { Best: null } f:
                _log.Warning("clock of node {0}: no usable sample in {1} burst requests to node {2}; regular polling takes over", Node, f.Requests, f.Reference);
                break;
            case BurstFinished { Best: { } best, Adjustment: { } a } f:
                _log.Info("clock of node {0}: initial burst of {1} samples, least delay {2} ms: {3} of {4:0.###} ms",
                    Node, f.Samples, best.DelayMs, a.Kind, a.DeltaMs);
                break;
        }
    }

    private void ReportSynced()
    {
        if (_reportedSynced || Node == _reference) return;
        var s = Status();
        if (!s.Synced) return;
        _reportedSynced = true;
        _log.Info("clock of node {0} synced to node {1}: estimated offset {2:0.###} ms, delay {3} ms", Node, _reference, s.OffsetMs, s.DelayMs);
    }

    private ClockProtocol.ClockStatus Status()
    {
        var injected = _clock.InjectedOffsetMs();
        var hlc = _clock.Hlc;
        var s = _clock.Synchronized(_sync.Status);
        return new ClockProtocol.ClockStatus(Node, _settings.Mode, _reference, _clock.Skew.SkewMs, _clock.Skew.DriftPpm, injected,
            s.OffsetMs, s.ResidualOffsetMs, s.DelayMs, s.ErrorBoundMs, s.Synced, s.CorrectionMs, injected + s.CorrectionMs, s.CorrectedMs,
            s.StepCount, s.SamplesUsed, hlc, _clock.HlcMaxOffsetMs, _clock.HlcRejected);
    }
}
