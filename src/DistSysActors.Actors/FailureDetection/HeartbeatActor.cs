using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using DistSysActors.Actors.Protocol;
using DistSysActors.Core;
using DistSysActors.Core.FailureDetection;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Actors.FailureDetection;

/// <summary>
/// Hosts one node's <see cref="HeartbeatMonitor"/> on a <see cref="ProtocolHostActor{TMessage,TReady}"/>: timer ticks and
/// heartbeat messages with a monotonic clock, sends through the node's network component (so partitions and drops hit
/// heartbeats), and verdict changes published on the EventStream as <see cref="HeartbeatProtocol.PeerReachabilityChanged"/>.
/// </summary>
public sealed class HeartbeatActor : ProtocolHostActor<HeartbeatMessage, HeartbeatReady>
{
    private readonly HeartbeatMonitor _monitor;
    private long _heartbeatsSent, _messagesReceived, _suspicions;
    private bool _heartbeating;

    public HeartbeatActor(NodeId self, IReadOnlyCollection<NodeId> members, FailureDetectionSettings settings, IActorRef network, Func<long>? clockMs,
        bool awaitMemberUp)
        : base(self, new ProtocolHostSettings(HeartbeatProtocol.Service, TickInterval: TimeSpan.FromMilliseconds(settings.TickMs)), network, clockMs)
    {
        _monitor = new HeartbeatMonitor(self, members.Where(m => m != self).Order(), settings.Heartbeat, NowMs);

        Receive<HeartbeatMessage>(m =>
        {
            _messagesReceived++;
            StepCore(m);
        });
        ReceiveStatus<HeartbeatProtocol.GetStatus>(() => new HeartbeatProtocol.DetectorStatus(
            self, settings.Detector, settings.Heartbeat.HeartbeatIntervalMs, [.. _monitor.Snapshot(NowMs)],
            _heartbeatsSent, _messagesReceived, _monitor.ResponsesIgnored, _monitor.MessagesDropped, _suspicions));
        Receive<StartHeartbeating>(_ => _heartbeating = true);
        Start();
        // Like Akka's heartbeat sender, start once this node is Up: heartbeats sent while it joins arrive in bursts and
        // gaps that would stay in the phi history for good and slow detection down. Requests are answered from the start.
        if (awaitMemberUp)
        {
            var me = Self;
            Cluster.Get(Context.System).RegisterOnMemberUp(() => me.Tell(StartHeartbeating.Instance));
        }
        else _heartbeating = true;
    }

    /// <param name="members">Every node of the cluster (this one included or not); fixed for the node's life, like the configured ids 1..N.</param>
    /// <param name="clockMs">A monotonic clock in ms; null uses <see cref="Stopwatch"/>.</param>
    /// <param name="awaitMemberUp">Send heartbeats only once this node is an Up Akka.Cluster member (needs the cluster provider).</param>
    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> members, FailureDetectionSettings settings, IActorRef network,
        Func<long>? clockMs = null, bool awaitMemberUp = false) =>
        Akka.Actor.Props.Create(() => new HeartbeatActor(self, members, settings, network, clockMs, awaitMemberUp));

    public static long MonotonicMs() => ProtocolHost<HeartbeatMessage, HeartbeatReady>.MonotonicMs();

    protected override IProtocolCore<HeartbeatMessage, HeartbeatReady> Core => _monitor;

    protected override void OnTick()
    {
        if (_heartbeating) base.OnTick();
    }

    public override void Send(Outgoing<HeartbeatMessage> outgoing)
    {
        if (outgoing.Message is HeartbeatRequest) _heartbeatsSent++;
        base.Send(outgoing);
    }

    /// <summary>Answers come after the Ready's messages: a subscriber reacting to an event sees the heartbeats already on their way.</summary>
    public override void Answer(object answer)
    {
        if (answer is not ReachabilityEvent e) return;
        if (e is PeerUnreachable) _suspicions++;
        Context.System.EventStream.Publish(HeartbeatProtocol.PeerReachabilityChanged.From(e));
    }

    private sealed record StartHeartbeating
    {
        public static readonly StartHeartbeating Instance = new();
    }
}
