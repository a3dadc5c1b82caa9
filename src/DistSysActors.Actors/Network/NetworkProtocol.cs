using System.Collections.Immutable;
using Akka.Actor;
using DistSysActors.Core;
using DistSysActors.Actors.LogPipeline;
using DistSysActors.Core.Clocks;
using DistSysActors.Core.Logging;
using DistSysActors.Core.Network;

namespace DistSysActors.Actors.Network;

/// <summary>Messages of the per-node network component (<see cref="NetworkActor"/>).</summary>
public static class NetworkProtocol
{
    /// <summary>Local: deliver payloads addressed to <paramref name="Service"/> on this node to <paramref name="Actor"/>.</summary>
    public sealed record Register(string Service, IActorRef Actor);

    /// <summary>Local: send <paramref name="Payload"/> to the actor registered as <paramref name="Service"/> on node <paramref name="To"/>, through the faults.</summary>
    public sealed record Send(NodeId To, string Service, object Payload)
    {
        /// <summary>The trace the send is made under: by default the one the sending actor is handling a message of (<see cref="TraceScope"/>).</summary>
        public TraceContext? Trace { get; init; } = TraceScope.Current;
    }

    /// <summary>
    /// Wire: what one network component hands to another; <paramref name="Hlc"/> is the sender's hybrid logical clock at the
    /// send, when the node runs a clock service; <paramref name="Lamport"/> its Lamport counter at the send (0: none);
    /// <paramref name="Trace"/> the W3C trace context the message was sent under; <paramref name="Vector"/> the sender's vector
    /// clock at the send (null in clusters above <see cref="LogRecord.VectorEntriesMax"/> nodes).
    /// </summary>
    public sealed record WireMessage(NodeId From, NodeId To, string Service, object Payload, HlcTimestamp? Hlc = null, long Lamport = 0,
        TraceContext? Trace = null, VectorClock? Vector = null) : IWireSerialized;

    /// <summary>Local: install a fault spec; answered with <see cref="FaultsApplied"/> or <see cref="FaultsRejected"/> (nothing changed).</summary>
    public sealed record SetFaults(FaultSpec Spec);
    public sealed record FaultsApplied(FaultSpec Spec);
    public sealed record FaultsRejected(IReadOnlyList<string> Errors);

    /// <summary>Local: where each peer's actor system lives (the host derives it from ports; tests set it).</summary>
    public sealed record SetPeers(ImmutableSortedDictionary<NodeId, Address> Peers);

    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>The current spec and what the component did: send-side counters from the fault planner, receive-side ones here.</summary>
    public sealed record NetworkStatus(
        NodeId Self, FaultSpec Spec, long Seed, NetworkCounters Sent,
        long ReceivedDelivered, long ReceivedDroppedByPartition, long Unroutable, long OverflowDropped, int DelayedNow);

    /// <summary>Local: the sampled recent messages this node sent with a sequence number above <paramref name="AfterSeq"/> (the dashboard's timeline).</summary>
    public sealed record GetRecentMessages(long AfterSeq);

    /// <summary>The samples, oldest first; <paramref name="NowMs"/> is the component's clock when answering (samples' AtMs share its base).</summary>
    public sealed record RecentMessages(long NowMs, IReadOnlyList<MessageSample> Samples);
}
