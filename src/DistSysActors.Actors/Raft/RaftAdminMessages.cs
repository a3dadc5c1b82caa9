using DistSysActors.Core;
using static DistSysActors.Actors.Raft.RaftProtocol;

namespace DistSysActors.Actors.Raft;

/// <summary>
/// Admin requests travelling between the replicas of one group, over the network under the group's service name like
/// the Raft messages that carry a forwarded write: a follower's replica passes its client's request to the leader's
/// replica, which answers it there.
/// </summary>
public abstract record RaftAdminMessage : IWireSerialized;

/// <summary>Request <see cref="RequestId"/> of node <see cref="From"/>'s replica, passed on to the leader's.</summary>
public sealed record AdminForwarded(int From, long RequestId, AdminRequest Request) : RaftAdminMessage;

/// <summary>
/// The leader replica's answer to an <see cref="AdminForwarded"/>: <see cref="Members"/>, <see cref="TransferDone"/>,
/// <see cref="Rejected"/>, <see cref="Unavailable"/> or <see cref="NotLeader"/>.
/// </summary>
public sealed record AdminAnswered(long RequestId, object Answer) : RaftAdminMessage;
