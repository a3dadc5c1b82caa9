using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using DistSysActors.Actors.Network;
using DistSysActors.Core;
using DistSysActors.Core.FailureDetection;

namespace DistSysActors.Actors.FailureDetection;

/// <summary>
/// Hosts one node's <see cref="HeartbeatMonitor"/>: feeds it timer ticks and heartbeat messages with a monotonic
/// clock, sends what it asks through the node's network component (so partitions and drops hit heartbeats), and
/// publishes its verdict changes on the EventStream as <see cref="HeartbeatProtocol.PeerReachabilityChanged"/>.
/// </summary>
public sealed class HeartbeatActor : ReceiveActor, IWithTimers
{
    private readonly IActorRef _network;
    private readonly Func<long> _clockMs;
    private readonly HeartbeatMonitor _monitor;
    private readonly string _detector;
    private long _heartbeatsSent, _messagesReceived, _suspicions;
    private bool _heartbeating;

    public ITimerScheduler Timers { get; set; } = null!;

    public HeartbeatActor(NodeId self, IReadOnlyCollection<NodeId> members, FailureDetectionSettings settings, IActorRef network, Func<long>? clockMs,
        bool awaitMemberUp)
    {
        _network = network;
        _clockMs = clockMs ?? MonotonicMs;
        _detector = settings.Detector;
        _monitor = new HeartbeatMonitor(self, members.Where(m => m != self).Order(), settings.Heartbeat, _clockMs());

        Receive<HeartbeatMessage>(m =>
        {
            _messagesReceived++;
            _monitor.Step(m, _clockMs());
            Flush();
        });
        Receive<Tick>(_ =>
        {
            if (!_heartbeating) return;
            _monitor.Tick(_clockMs());
            Flush();
        });
        Receive<HeartbeatProtocol.GetStatus>(_ => Sender.Tell(new HeartbeatProtocol.DetectorStatus(
            self, _detector, settings.Heartbeat.HeartbeatIntervalMs, [.. _monitor.Snapshot(_clockMs())],
            _heartbeatsSent, _messagesReceived, _monitor.ResponsesIgnored, _monitor.MessagesDropped, _suspicions)));

        Receive<StartHeartbeating>(_ => _heartbeating = true);
        _network.Tell(new NetworkProtocol.Register(HeartbeatProtocol.Service, Self));
        // Like Akka's heartbeat sender, start once this node is Up: heartbeats sent while it joins arrive in bursts and
        // gaps that would stay in the phi history for good and slow detection down. Requests are answered from the start.
        if (awaitMemberUp)
        {
            var me = Self;
            Cluster.Get(Context.System).RegisterOnMemberUp(() => me.Tell(StartHeartbeating.Instance));
        }
        else _heartbeating = true;
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, TimeSpan.FromMilliseconds(settings.TickMs));
    }

    /// <param name="members">Every node of the cluster (this one included or not); fixed for the node's life, like the configured ids 1..N.</param>
    /// <param name="clockMs">A monotonic clock in ms; null uses <see cref="Stopwatch"/>.</param>
    /// <param name="awaitMemberUp">Send heartbeats only once this node is an Up Akka.Cluster member (needs the cluster provider).</param>
    public static Props Props(NodeId self, IReadOnlyCollection<NodeId> members, FailureDetectionSettings settings, IActorRef network,
        Func<long>? clockMs = null, bool awaitMemberUp = false) =>
        Akka.Actor.Props.Create(() => new HeartbeatActor(self, members, settings, network, clockMs, awaitMemberUp));

    public static long MonotonicMs() => Stopwatch.GetTimestamp() * 1000 / Stopwatch.Frequency;

    /// <summary>Send first, then publish: a subscriber reacting to an event sees the heartbeats already on their way.</summary>
    private void Flush()
    {
        var ready = _monitor.TakeReady();
        if (ready.IsEmpty) return;
        foreach (var message in ready.Messages)
        {
            if (message is HeartbeatRequest) _heartbeatsSent++;
            _network.Tell(new NetworkProtocol.Send(message.To, HeartbeatProtocol.Service, message));
        }
        foreach (var e in ready.Events)
        {
            if (e is PeerUnreachable) _suspicions++;
            Context.System.EventStream.Publish(HeartbeatProtocol.PeerReachabilityChanged.From(e));
        }
    }

    private sealed record StartHeartbeating
    {
        public static readonly StartHeartbeating Instance = new();
    }

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }
}
