using System.Collections.Immutable;
using DistSysActors.Core;
using DistSysActors.Core.FailureDetection;

namespace DistSysActors.Actors.FailureDetection;

/// <summary>Messages of the <see cref="HeartbeatActor"/>: its network service name, the status query, and the event it publishes.</summary>
public static class HeartbeatProtocol
{
    /// <summary>The network component's service name for heartbeat requests and responses.</summary>
    public const string Service = "heartbeat";

    /// <summary>
    /// Published on the actor system's EventStream when this node's detector changes its verdict on a peer.
    /// Subscribe with <c>system.EventStream.Subscribe(actor, typeof(PeerReachabilityChanged))</c>.
    /// <c>Phi</c> and <c>LastHeartbeatAgeMs</c> are set when a peer becomes unreachable (phi only for the phi detector).
    /// </summary>
    public sealed record PeerReachabilityChanged(NodeId Observer, NodeId Peer, bool Reachable, long AtMs, double? Phi, long? LastHeartbeatAgeMs)
    {
        public static PeerReachabilityChanged From(ReachabilityEvent e) => e switch
        {
            PeerUnreachable u => new(u.Observer, u.Peer, false, u.AtMs, u.Phi, u.LastHeartbeatAgeMs),
            PeerReachable r => new(r.Observer, r.Peer, true, r.AtMs, null, null),
            _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "unknown reachability event"),
        };
    }

    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>
    /// The detector's view: one row per monitored peer in NodeId order, and the protocol's counters.
    /// <c>Suspicions</c> counts every verdict change to unreachable since start, so a brief one between two polls still shows.
    /// </summary>
    public sealed record DetectorStatus(
        NodeId Self, string Detector, long HeartbeatIntervalMs, ImmutableArray<HeartbeatPeerStatus> Peers,
        long HeartbeatsSent, long MessagesReceived, long ResponsesIgnored, long MessagesDropped, long Suspicions);
}
