using System.Collections.Immutable;
using DistSysActors.Core.Protocol;

namespace DistSysActors.Core.FailureDetection;

/// <summary>A heartbeat protocol message between two nodes.</summary>
public abstract record HeartbeatMessage(NodeId From, NodeId To) : IWireSerialized;

/// <summary>Sent every heartbeat interval by a monitor to each node it monitors. <c>SentAtMs</c> is on the sender's clock.</summary>
public sealed record HeartbeatRequest(NodeId From, NodeId To, long SequenceNr, long SentAtMs) : HeartbeatMessage(From, To);

/// <summary>The monitored node's answer; echoes the request's sequence number and send time (for round-trip time).</summary>
public sealed record HeartbeatResponse(NodeId From, NodeId To, long SequenceNr, long RequestSentAtMs) : HeartbeatMessage(From, To);

/// <summary>A change in the detector's verdict on a monitored peer, seen by <c>Observer</c>.</summary>
public abstract record ReachabilityEvent(NodeId Observer, NodeId Peer, long AtMs);

/// <summary>The observer's detector now suspects the peer; <c>Phi</c> is null for detectors without one.</summary>
public sealed record PeerUnreachable(NodeId Observer, NodeId Peer, long AtMs, double? Phi, long? LastHeartbeatAgeMs) : ReachabilityEvent(Observer, Peer, AtMs);

/// <summary>A suspected peer answered again.</summary>
public sealed record PeerReachable(NodeId Observer, NodeId Peer, long AtMs) : ReachabilityEvent(Observer, Peer, AtMs);

/// <summary>
/// One monitored peer as <c>/status</c> shows it. <c>Available</c> is the detector's verdict, which is true for a peer
/// it has no history of yet; <c>HeardFrom</c> says whether a response from the peer actually arrived at this monitor.
/// </summary>
public sealed record HeartbeatPeerStatus(NodeId NodeId, double? Phi, long? LastHeartbeatAgeMs, bool Available, bool Monitoring, bool HeardFrom = false);

/// <summary>
/// Effects the host takes from <see cref="HeartbeatMonitor.TakeReady"/>: send <c>Messages</c> (through the
/// node's fault-injecting network), then publish <c>Events</c>. Nothing here needs persisting.
/// </summary>
public sealed record HeartbeatReady(ImmutableArray<HeartbeatMessage> Messages, ImmutableArray<ReachabilityEvent> Events) : IReady<HeartbeatMessage>
{
    public static readonly HeartbeatReady Empty = new([], []);
    public bool IsEmpty => Messages.IsEmpty && Events.IsEmpty;

    IReadOnlyList<Outgoing<HeartbeatMessage>> IReady<HeartbeatMessage>.MessagesBeforePersist => [];
    IReadOnlyList<object> IReady<HeartbeatMessage>.Writes => [];
    IReadOnlyList<Outgoing<HeartbeatMessage>> IReady<HeartbeatMessage>.MessagesAfterPersist => [.. Messages.Select(m => new Outgoing<HeartbeatMessage>(m.To, m))];
    IReadOnlyList<object> IReady<HeartbeatMessage>.Applies => [];
    IReadOnlyList<object> IReady<HeartbeatMessage>.Answers => [.. Events];
}
