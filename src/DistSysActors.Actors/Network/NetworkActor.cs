using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Remote;
using Akka.Remote.Transport;
using DistSysActors.Actors.Clocks;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core;
using DistSysActors.Core.Network;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;
using static DistSysActors.Actors.Network.NetworkProtocol;

namespace DistSysActors.Actors.Network;

/// <summary>
/// The one path protocol messages take between nodes. Sends apply the current
/// <see cref="FaultSpec"/> (partition, drop, delay, duplicate, reorder) through a seeded
/// <see cref="FaultPlanner"/>; receives re-check the partition so a spec installed on only one side
/// still cuts both directions. Partitions also blackhole the Akka.Remote link through the throttler
/// adapter, so Akka.Cluster's own heartbeats and gossip see them too.
/// </summary>
public sealed partial class NetworkActor : ReceiveActor, IWithTimers
{
    public const string Name = "network";

    private readonly NodeId _self;
    private readonly NetworkSettings _settings;
    private readonly FaultPlanner _planner;
    private readonly Dictionary<string, IActorRef> _services = new(StringComparer.Ordinal);
    private readonly PriorityQueue<WireMessage, (long AtMs, long Seq)> _delayed = new();
    private readonly Dictionary<NodeId, IActorRef> _peerRefs = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly NodeClock? _clock;
    private readonly NodeLog? _nodeLog;
    private readonly MessageSampler _samples = new();
    private readonly Func<NodeId, Address?>? _resolve;
    private readonly PeerAddressing _addressing;
    private ImmutableSortedDictionary<NodeId, Address> _peers;
    private long _seq, _receivedDelivered, _receivedPartitioned, _unroutable, _overflow;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="clock">The node's clock: when given, every message is stamped with its HLC on send and merged on receive.</param>
    /// <param name="resolve">
    /// Finds the address of a node missing from <paramref name="peers"/> (a server added to the cluster later); the answer is
    /// kept, at most one entry per id of the port plan. Null: only <paramref name="peers"/> are reachable.
    /// </param>
    /// <param name="addressing">
    /// Whether peers' addresses come from the cluster membership (the role <c>node-I</c> of each member): first, before
    /// <paramref name="peers"/>, or only, in which case <paramref name="peers"/> give ids and this node's own address only.
    /// </param>
    public NetworkActor(NodeId self, NetworkSettings settings, ImmutableSortedDictionary<NodeId, Address> peers, FaultSpec? initialFaults,
        NodeClock? clock = null, Func<NodeId, Address?>? resolve = null, PeerAddressing addressing = PeerAddressing.Static)
    {
        _clock = clock;
        _nodeLog = NodeLog.Of(Context.System);
        _resolve = resolve;
        _addressing = addressing;
        _self = self;
        _settings = settings;
        _peers = addressing == PeerAddressing.MembershipOnly ? peers.Where(p => p.Key == self).ToImmutableSortedDictionary() : peers;
        var seed = settings.Seed != 0 ? settings.Seed : 0x5EED_0000L + self.Value;
        _planner = new FaultPlanner(seed);
        _log.Info("network component of node {0} uses fault seed {1}", self, seed);

        Receive<Register>(r => _services[r.Service] = r.Actor);
        Receive<Send>(OnSend);
        Receive<WireMessage>(OnEnvelope);
        Receive<SetFaults>(s => Sender.Tell(Apply(s.Spec)));
        Receive<SetPeers>(p => { _peers = p.Peers; _peerRefs.Clear(); ApplyThrottles(_planner.Spec); });
        Receive<FlushDue>(_ => Flush());
        Receive<GetStatus>(_ => Sender.Tell(new NetworkStatus(_self, _planner.Spec, _planner.Seed, _planner.Counters,
            _receivedDelivered, _receivedPartitioned, _unroutable, _overflow, _delayed.Count)));
        Receive<GetRecentMessages>(g => Sender.Tell(new RecentMessages(NowMs, _samples.Since(g.AfterSeq))));
        Receive<ThrottleResult>(r => { if (!r.Ok) _log.Warning("throttle of link to {0} failed: {1}", r.Peer, r.Error); });
        Receive<Akka.Cluster.ClusterEvent.IMemberEvent>(OnMemberEvent);
        Receive<ReconcileThrottles>(_ => ApplyThrottles(_planner.Spec));

        if (initialFaults is not null) Apply(initialFaults);
        // Akka.Remote's throttler adapter reads a new outbound association's inbound mode when the association is made and
        // installs it once the upper layer listens; a SetThrottle landing in between is overwritten by the stale mode, so a
        // healed link can stay blackholed in one direction for good. Re-asserting every link's mode repairs that.
        if (settings.ThrottleReconcileMs > 0 && ((ExtendedActorSystem)Context.System).Provider is IRemoteActorRefProvider)
            Timers.StartPeriodicTimer(ReconcileThrottles.Instance, ReconcileThrottles.Instance, TimeSpan.FromMilliseconds(settings.ThrottleReconcileMs));
    }

    public static Props Props(NodeId self, NetworkSettings settings, ImmutableSortedDictionary<NodeId, Address> peers, FaultSpec? initialFaults = null,
        NodeClock? clock = null, Func<NodeId, Address?>? resolve = null, PeerAddressing addressing = PeerAddressing.Static) =>
        Akka.Actor.Props.Create(() => new NetworkActor(self, settings, peers, initialFaults, clock, resolve, addressing));

    private static long NowMs => Stopwatch.GetTimestamp() * 1000 / Stopwatch.Frequency;

    private object Apply(FaultSpec spec)
    {
        var errors = spec.Validate().ToList();
        if (spec.DelayMaxMs > _settings.DelayMaxMs) errors.Add($"delayMs maximum must be at most {_settings.DelayMaxMs}, was {spec.DelayMaxMs}");
        if (errors.Count > 0) return new FaultsRejected(errors);
        _planner.Apply(spec);
        ApplyThrottles(spec);
        _log.Info("node {0} network faults now {1}", _self, spec);
        return new FaultsApplied(spec);
    }

    private void OnSend(Send send)
    {
        var (lamport, vector) = _nodeLog?.Send() ?? (0, null);
        var message = new WireMessage(_self, send.To, send.Service, send.Payload, _clock?.Stamp(), lamport, send.Trace, vector);
        if (message.Trace is not null) LogTraced(message, LogAttributes.SendEvent, message.Hlc, message.Lamport, message.Vector);
        if (send.To == _self) { Deliver(message); return; }
        var now = NowMs;
        var deliveries = _planner.Plan(_self, send.To, now);
        _samples.Offer(now, _self, send.To, send.Service, send.Payload.GetType().Name, OutcomeOf(deliveries, send.To, now));
        foreach (var delivery in deliveries)
        {
            if (delivery.DeliverAtMs <= now && _delayed.Count == 0) { Transmit(message); continue; }
            if (_delayed.Count >= _settings.DelayedMessagesMax) { _overflow++; continue; }
            _delayed.Enqueue(message, (delivery.DeliverAtMs, _seq++));
        }
        Flush();
    }

    private MessageOutcome OutcomeOf(IReadOnlyList<Delivery> deliveries, NodeId to, long now) => deliveries.Count switch
    {
        0 => _planner.Spec.Connected(_self, to) ? MessageOutcome.Dropped : MessageOutcome.Partitioned,
        > 1 => MessageOutcome.Duplicated,
        _ => deliveries[0].DeliverAtMs > now ? MessageOutcome.Delayed : MessageOutcome.Sent,
    };

    private void Flush()
    {
        var now = NowMs;
        while (_delayed.TryPeek(out var message, out var key) && key.AtMs <= now)
        {
            _delayed.Dequeue();
            Transmit(message);
        }
        if (_delayed.TryPeek(out _, out var next))
            Timers.StartSingleTimer(FlushDue.Instance, FlushDue.Instance, TimeSpan.FromMilliseconds(Math.Max(1, next.AtMs - now)));
    }

    private void Transmit(WireMessage message)
    {
        if (!_peers.TryGetValue(message.To, out var address) && !TryResolve(message.To, out address)) { _unroutable++; return; }
        if (!_peerRefs.TryGetValue(message.To, out var peer))
        {
            // A ref resolved from a path without uid reaches whichever incarnation runs there (a restarted node too),
            // and skips the ActorSelectionMessage wrapping and path walk an ActorSelection pays on every message. The peer's
            // network component lives at the same path as this one (/user/distsys/network on a node, /user/network in tests).
            peer = ((ExtendedActorSystem)Context.System).Provider.ResolveActorRef(new RootActorPath(address) / Self.Path.Elements);
            _peerRefs[message.To] = peer;
        }
        peer.Tell(message, Self);
    }

    private bool TryResolve(NodeId peer, out Address address)
    {
        address = null!;
        if (_resolve?.Invoke(peer) is not { } resolved) return false;
        address = resolved;
        _peers = _peers.SetItem(peer, resolved);
        // The link to a newly known peer obeys the partition in force, like every other link.
        ApplyThrottles(_planner.Spec, only: peer);
        return true;
    }

    private void OnEnvelope(WireMessage message)
    {
        if (message.To != _self) { _unroutable++; return; }
        if (!_planner.Spec.Connected(message.From, _self)) { _receivedPartitioned++; return; }
        _receivedDelivered++;
        // A timestamp too far ahead is counted by the clock and not merged, but the message is still delivered (README, Clocks).
        var received = message.Hlc is { } hlc && _clock?.Receive(hlc) is HlcReceiveResult.Accepted accepted ? accepted.Timestamp : (HlcTimestamp?)null;
        var (lamport, vector) = _nodeLog?.Receive(message.Lamport, message.Vector) ?? (0, null);
        if (message.Trace is not null) LogTraced(message, LogAttributes.ReceiveEvent, received ?? _clock?.Stamp(), lamport, vector);
        Deliver(message);
    }

    private void Deliver(WireMessage message)
    {
        if (_services.TryGetValue(message.Service, out var actor)) actor.Tell(TraceScope.Attach(message.Payload, message.Trace), Self);
        else _unroutable++;
    }

    /// <summary>
    /// One record per send and per receive of a traced message, stamped with the send's own HLC and Lamport values (the
    /// receive's after merging), and both naming the message by its sender and send stamp, so a merged view can check
    /// that every receive comes after its send.
    /// </summary>
    private void LogTraced(WireMessage message, string kind, HlcTimestamp? hlc, long lamport, VectorClock? vector)
    {
        if (_nodeLog is null) return;
        var type = message.Payload.GetType().Name;
        var messageId = message.Hlc is { } sent ? $"{message.From.Value}@{sent}" : $"{message.From.Value}#{message.Lamport}";
        var attributes = NodeLog.Attributes((LogAttributes.Event, kind), (LogAttributes.MessageId, messageId), (LogAttributes.Service, message.Service),
            (LogAttributes.MessageType, type), (LogAttributes.Peer, (kind == LogAttributes.SendEvent ? message.To : message.From).Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var body = kind == LogAttributes.SendEvent ? $"send {type} to node {message.To} ({message.Service})" : $"receive {type} from node {message.From} ({message.Service})";
        if (hlc is { } stamp) _nodeLog.WriteStamped(Severity.Debug, body, message.Trace, attributes, stamp, lamport, vector);
        else _nodeLog.Write(Severity.Debug, body, message.Trace, attributes);
    }

    private void ApplyThrottles(FaultSpec spec, NodeId? only = null)
    {
        if (((ExtendedActorSystem)Context.System).Provider is not IRemoteActorRefProvider remote) return;
        var self = Self;
        foreach (var (peer, address) in _peers)
        {
            if (peer == _self || (only is { } o && peer != o)) continue;
            ThrottleMode mode = spec.Connected(_self, peer) ? Unthrottled.Instance : Blackhole.Instance;
            remote.Transport.ManagementCommand(new SetThrottle(address, ThrottleTransportAdapter.Direction.Both, mode))
                .ContinueWith(t => new ThrottleResult(peer, t.IsCompletedSuccessfully && t.Result, t.Exception?.GetBaseException().Message))
                .PipeTo(self);
        }
    }

    private sealed record FlushDue
    {
        public static readonly FlushDue Instance = new();
    }

    private sealed record ReconcileThrottles
    {
        public static readonly ReconcileThrottles Instance = new();
    }

    private sealed record ThrottleResult(NodeId Peer, bool Ok, string? Error);
}
