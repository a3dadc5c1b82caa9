using System.Collections.Immutable;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.FailureDetection;

/// <summary>
/// One node's side of the heartbeat protocol, after Akka.Cluster's heartbeat sender and receiver:
/// every <see cref="HeartbeatSettings.HeartbeatIntervalMs"/> it sends a <see cref="HeartbeatRequest"/>
/// to each peer it monitors on the <see cref="MonitoringRing"/>, answers every request it receives,
/// feeds each <see cref="HeartbeatResponse"/> to that peer's failure detector, and reports changes of
/// verdict as <see cref="ReachabilityEvent"/>s. Pure and single-threaded: the host passes a monotonic
/// <c>nowMs</c> into <see cref="Tick"/> and <see cref="Step"/> and executes what <see cref="TakeReady"/> returns.
/// </summary>
public sealed class HeartbeatMonitor : IProtocolCore<HeartbeatMessage, HeartbeatReady>
{
    /// <summary>Buffered effects beyond this are dropped (and counted): heartbeats tolerate loss, memory must not grow.</summary>
    public const int OutboxMessagesMax = 10_000;
    public const int EventsMax = 10_000;

    private readonly SortedDictionary<NodeId, PeerState> _peers = new();
    private ImmutableSortedSet<NodeId> _oldReceiversNowUnreachable = [];
    private readonly List<HeartbeatMessage> _outbox = [];
    private readonly List<ReachabilityEvent> _events = [];
    private long _nextHeartbeatAtMs;
    private long _sequenceNr;

    public HeartbeatMonitor(NodeId self, IEnumerable<NodeId> members, HeartbeatSettings settings, long nowMs)
    {
        settings.EnsureValid();
        Self = self;
        Settings = settings;
        Ring = new MonitoringRing(members.Append(self), settings.MonitoredByCount);
        _nextHeartbeatAtMs = nowMs;
        RefreshPeers();
    }

    public NodeId Self { get; }
    public HeartbeatSettings Settings { get; }
    public MonitoringRing Ring { get; private set; }

    /// <summary>Peers this node heartbeats now, in NodeId order: its ring receivers plus former receivers still unreachable.</summary>
    public IReadOnlyList<NodeId> MonitoredPeers => [.. _peers.Keys];

    public long MessagesDropped { get; private set; }
    public long EventsDropped { get; private set; }
    /// <summary>Responses ignored: from a peer not monitored, addressed elsewhere, duplicated or older than one already seen.</summary>
    public long ResponsesIgnored { get; private set; }

    /// <summary>
    /// Installs a new membership view (<paramref name="unreachable"/> is the cluster's, e.g. Akka.Cluster's
    /// reachability, used only to pick receivers). Removed peers are forgotten; a peer that leaves this
    /// node's receivers while suspected keeps being heartbeated until it answers, so its return is reported.
    /// </summary>
    public void UpdateMembership(IEnumerable<NodeId> members, IEnumerable<NodeId> unreachable, long nowMs)
    {
        var memberSet = members.Append(Self).ToImmutableSortedSet();
        var oldReceivers = Ring.Receivers(Self);
        Ring = new MonitoringRing(memberSet, Settings.MonitoredByCount, unreachable);
        var newReceivers = Ring.Receivers(Self);
        foreach (var removed in oldReceivers.Except(newReceivers))
        {
            if (memberSet.Contains(removed) && _peers.TryGetValue(removed, out var peer) && !peer.Detector.IsAvailable(nowMs))
                _oldReceiversNowUnreachable = _oldReceiversNowUnreachable.Add(removed);
        }
        _oldReceiversNowUnreachable = _oldReceiversNowUnreachable.Where(memberSet.Contains).ToImmutableSortedSet();
        RefreshPeers();
    }

    /// <summary>
    /// Advances time: sends a request to every monitored peer when a heartbeat is due, starts monitoring
    /// peers that never answered once expected-response-after has passed, and reports verdict changes.
    /// Call it at least as often as the heartbeat interval; more often makes detection more prompt.
    /// </summary>
    public void Tick(long nowMs)
    {
        if (nowMs >= _nextHeartbeatAtMs)
        {
            foreach (var (peerId, peer) in _peers)
            {
                peer.FirstRequestSentAtMs ??= nowMs;
                Send(new HeartbeatRequest(Self, peerId, ++_sequenceNr, nowMs));
            }
            // Keep the phase of the schedule; after a long stall start afresh instead of sending a burst.
            _nextHeartbeatAtMs += Settings.HeartbeatIntervalMs;
            if (_nextHeartbeatAtMs <= nowMs) _nextHeartbeatAtMs = nowMs + Settings.HeartbeatIntervalMs;
        }
        foreach (var (_, peer) in _peers)
        {
            if (!peer.Detector.IsMonitoring && peer.FirstRequestSentAtMs is { } first && nowMs - first >= Settings.ExpectedResponseAfterMs)
                peer.Detector.Heartbeat(nowMs);
        }
        foreach (var (peerId, peer) in _peers) CheckReachability(peerId, peer, nowMs);
    }

    /// <summary>Handles one message addressed to this node, received at <paramref name="nowMs"/>.</summary>
    public void Step(HeartbeatMessage message, long nowMs)
    {
        switch (message)
        {
            case HeartbeatRequest request when request.To == Self:
                Send(new HeartbeatResponse(Self, request.From, request.SequenceNr, request.SentAtMs));
                break;
            case HeartbeatResponse response when response.To == Self && _peers.TryGetValue(response.From, out var peer)
                                                 && response.SequenceNr > peer.HighestSequenceNr:
                peer.HighestSequenceNr = response.SequenceNr;
                peer.Detector.Heartbeat(nowMs);
                if (_oldReceiversNowUnreachable.Contains(response.From))
                {
                    // Back from unreachable: report it, then stop heartbeating a peer that is no longer a receiver.
                    _oldReceiversNowUnreachable = _oldReceiversNowUnreachable.Remove(response.From);
                    CheckReachability(response.From, peer, nowMs);
                    RefreshPeers();
                    return;
                }
                CheckReachability(response.From, peer, nowMs);
                break;
            case HeartbeatResponse:
                ResponsesIgnored++;
                break;
        }
    }

    public bool HasReady => _outbox.Count > 0 || _events.Count > 0;

    /// <summary>Takes the buffered messages and events; the host sends the messages, then publishes the events.</summary>
    public HeartbeatReady TakeReady()
    {
        if (_outbox.Count == 0 && _events.Count == 0) return HeartbeatReady.Empty;
        var ready = new HeartbeatReady([.. _outbox], [.. _events]);
        _outbox.Clear();
        _events.Clear();
        return ready;
    }

    /// <summary>Nothing is persisted, so nothing waits for the host: the next Ready may be taken at once.</summary>
    public void Advance(HeartbeatReady ready) { }

    public IReadOnlyList<string> CheckInvariants()
    {
        var violations = new List<string>();
        var wanted = Ring.Receivers(Self).Concat(_oldReceiversNowUnreachable).ToHashSet();
        if (!wanted.SetEquals(_peers.Keys))
            violations.Add($"node {Self} monitors {string.Join(",", _peers.Keys)} instead of {string.Join(",", wanted.Order())}");
        if (_peers.ContainsKey(Self)) violations.Add($"node {Self} monitors itself");
        if (_outbox.Count > OutboxMessagesMax) violations.Add($"node {Self}: {_outbox.Count} buffered messages exceed {OutboxMessagesMax}");
        if (_events.Count > EventsMax) violations.Add($"node {Self}: {_events.Count} buffered events exceed {EventsMax}");
        return violations;
    }

    /// <summary>The detector's view of every monitored peer at <paramref name="nowMs"/>, in NodeId order.</summary>
    public IReadOnlyList<HeartbeatPeerStatus> Snapshot(long nowMs) =>
    [
        .. _peers.Select(p => new HeartbeatPeerStatus(
            p.Key,
            p.Value.Detector.Phi(nowMs),
            p.Value.Detector.LastHeartbeatMs is { } last ? nowMs - last : null,
            p.Value.Detector.IsAvailable(nowMs),
            p.Value.Detector.IsMonitoring,
            p.Value.HighestSequenceNr > 0)),
    ];

    /// <summary>
    /// Whether a response from <paramref name="peer"/> arrived since this monitor was created (or since the peer became
    /// monitored again): unlike <see cref="IsAvailable"/>, never true for a peer that was only assumed to be up.
    /// </summary>
    public bool HasHeardFrom(NodeId peer) => _peers.TryGetValue(peer, out var state) && state.HighestSequenceNr > 0;

    /// <summary>The verdict on <paramref name="peer"/>; true for a peer this node does not monitor.</summary>
    public bool IsAvailable(NodeId peer, long nowMs) => !_peers.TryGetValue(peer, out var state) || state.Detector.IsAvailable(nowMs);

    private void CheckReachability(NodeId peerId, PeerState peer, long nowMs)
    {
        var available = peer.Detector.IsAvailable(nowMs);
        if (available == peer.ReportedAvailable) return;
        peer.ReportedAvailable = available;
        Publish(available
            ? new PeerReachable(Self, peerId, nowMs)
            : new PeerUnreachable(Self, peerId, nowMs, peer.Detector.Phi(nowMs), nowMs - peer.Detector.LastHeartbeatMs));
    }

    private void RefreshPeers()
    {
        var wanted = Ring.Receivers(Self).Concat(_oldReceiversNowUnreachable).ToHashSet();
        foreach (var gone in _peers.Keys.Where(k => !wanted.Contains(k)).ToList()) _peers.Remove(gone);
        foreach (var peerId in wanted)
            if (!_peers.ContainsKey(peerId)) _peers.Add(peerId, new PeerState(Settings.Detector.CreateDetector()));
    }

    private void Send(HeartbeatMessage message)
    {
        if (_outbox.Count >= OutboxMessagesMax) { MessagesDropped++; return; }
        _outbox.Add(message);
    }

    private void Publish(ReachabilityEvent reachabilityEvent)
    {
        if (_events.Count >= EventsMax) { EventsDropped++; return; }
        _events.Add(reachabilityEvent);
    }

    private sealed class PeerState(IFailureDetector detector)
    {
        public IFailureDetector Detector { get; } = detector;
        public long? FirstRequestSentAtMs { get; set; }
        public long HighestSequenceNr { get; set; }
        public bool ReportedAvailable { get; set; } = true;
    }
}
