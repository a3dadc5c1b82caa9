using System.Collections.Immutable;

namespace DistSysActors.Core.Gossip;

/// <summary>A member's state in a SWIM view (Das, Gupta, Motivala 2002, section 4.2).</summary>
public enum MemberState
{
    Alive = 0,
    Suspect = 1,
    Dead = 2,
}

/// <summary>
/// One piece of membership news, piggybacked on protocol messages: <paramref name="Member"/> is in
/// <paramref name="State"/> at <paramref name="Incarnation"/>, as <paramref name="Reporter"/> says. Only the member itself
/// raises its incarnation (to refute a suspicion); a Dead update whose reporter is the member itself is a graceful leave.
/// </summary>
public sealed record MemberUpdate(NodeId Member, MemberState State, long Incarnation, NodeId Reporter)
{
    public override string ToString() => $"{Member}:{State}@{Incarnation} by {Reporter}";
}

/// <summary>The SWIM protocol's wire messages; each carries membership updates piggybacked on it.</summary>
public abstract record SwimMessage(NodeId From, ImmutableArray<MemberUpdate> Updates) : IWireSerialized;

/// <summary>A direct probe (or, sent by an intermediary, an indirect one); answered by an <see cref="SwimAck"/> with the same <paramref name="Seq"/>.</summary>
public sealed record SwimPing(NodeId From, long Seq, ImmutableArray<MemberUpdate> Updates) : SwimMessage(From, Updates);

/// <summary>The answer to a probe; an intermediary relays the target's answer to the requester under the requester's <paramref name="Seq"/>.</summary>
public sealed record SwimAck(NodeId From, long Seq, ImmutableArray<MemberUpdate> Updates) : SwimMessage(From, Updates);

/// <summary>Asks the receiver to probe <paramref name="Target"/> on the sender's behalf (SWIM section 3.1, ping-req).</summary>
public sealed record SwimPingReq(NodeId From, long Seq, NodeId Target, ImmutableArray<MemberUpdate> Updates) : SwimMessage(From, Updates);

/// <summary>
/// A push-pull exchange of whole views (what memberlist calls push-pull): <paramref name="Updates"/> is the sender's
/// entry for every member; a request (<paramref name="IsReply"/> false) is answered with the receiver's. It lets a
/// joining node learn everyone, and the two sides of a healed partition find each other, since nobody probes the dead.
/// </summary>
public sealed record SwimSync(NodeId From, bool IsReply, ImmutableArray<MemberUpdate> Updates) : SwimMessage(From, Updates);

/// <summary>Announced (a Ready answer) whenever this node's view of a member changes.</summary>
public sealed record MemberStateChanged(NodeId Member, MemberState State, long Incarnation, MemberState? Previous, long AtMs);

/// <summary>One member as this node sees it.</summary>
public sealed record SwimMemberView(NodeId Member, MemberState State, long Incarnation);

/// <summary>This node's view and counters: <paramref name="Rounds"/> protocol periods run, messages sent and the like.</summary>
public sealed record SwimStatus(
    NodeId Self,
    ImmutableArray<SwimMemberView> Members,
    long Rounds,
    long MessagesSent,
    long PingReqsSent,
    long SuspicionsRaised,
    long Refutations,
    long PendingBroadcasts);
