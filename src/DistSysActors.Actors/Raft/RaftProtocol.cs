using DistSysActors.Core;
using DistSysActors.Core.Raft;

namespace DistSysActors.Actors.Raft;

/// <summary>
/// What clients (the HTTP API, embedders, tests) ask a <see cref="RaftActor"/> itself and what it answers: admin, status,
/// readiness. The key-value requests the replica's hosted service answers are in <see cref="KeyValue.KvProtocol"/>.
/// </summary>
public static class RaftProtocol
{
    /// <summary>The network service name of the default group's replicas.</summary>
    public const string Service = "raft";

    /// <summary>
    /// The group a node runs when none is named. Its names are the ones every node used before groups existed
    /// (persistence id raft-node-{id}, service raft), so journals written then recover into it.
    /// </summary>
    public const string DefaultGroup = "default";

    /// <summary>Group names: lower-case letters, digits and '-', starting with a letter or digit, at most this long.</summary>
    public const int GroupNameLengthMax = 64;

    public static bool IsValidGroup(string group) =>
        group is { Length: > 0 and <= GroupNameLengthMax } && char.IsAsciiLetterOrDigit(group[0])
        && group.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    /// <summary>The network service a group's replicas register and address each other under: raft, or raft/{group}.</summary>
    public static string ServiceOf(string group) => group == DefaultGroup ? Service : $"{Service}/{group}";

    /// <summary>The journal and snapshot id of a group's replica on a node: raft-node-{id}, or raft-{group}-node-{id}.</summary>
    public static string PersistenceIdOf(string group, NodeId node) =>
        group == DefaultGroup ? $"raft-node-{node.Value}" : $"raft-{group}-node-{node.Value}";

    /// <summary>
    /// An admin request could not be served. <see cref="Unknown"/>: it may still take effect (it was handed to Raft);
    /// otherwise it certainly did not (overloaded, no leader answered).
    /// </summary>
    public sealed record Unavailable(string Reason, bool Unknown);

    /// <summary>Bad input (a node id out of range, a change the membership refuses, ...): nothing was done.</summary>
    public sealed record Rejected(string Reason, bool TooLarge);

    // ------------------------------------------------------------------ membership and leadership (admin)

    /// <summary>Admin requests; any node accepts them. A follower answers <see cref="NotLeader"/> (the HTTP layer retries at the leader).</summary>
    public abstract record AdminRequest;

    /// <summary>Answered with <see cref="Members"/>: the membership in force at this node (the latest in its log).</summary>
    public sealed record GetMembers : AdminRequest
    {
        public static readonly GetMembers Instance = new();
    }

    /// <summary>
    /// Adds a server (dissertation 4.2): it joins as a non-voting learner, the leader promotes it once its log has caught
    /// up. Answered with <see cref="Members"/> once the committed membership has it as a voter (as a learner when
    /// auto-promote-learners is off), <see cref="Rejected"/> when it is already a voter, the id is out of range or the
    /// cluster is full, <see cref="Unavailable"/> (Unknown) at the deadline. A retry for a learner still catching up
    /// waits for the same promotion.
    /// </summary>
    public sealed record AddMember(int NodeId) : AdminRequest;

    /// <summary>Removes a voter or learner; answered with <see cref="Members"/> once the change is committed. A removed leader steps down.</summary>
    public sealed record RemoveMember(int NodeId) : AdminRequest;

    /// <summary>
    /// Moves leadership (dissertation 3.10) to To, or to the most up-to-date voter when To is null. Answered with
    /// <see cref="TransferDone"/> once another node leads, <see cref="Rejected"/> for a target that is not a voter,
    /// <see cref="Unavailable"/> when the transfer did not finish in time (the old leader leads again).
    /// </summary>
    public sealed record TransferLeadership(int? To) : AdminRequest;

    /// <summary>This node is not the leader; LeaderId is the leader it knows (null if none).</summary>
    public sealed record NotLeader(int? LeaderId);

    /// <summary>One server of the membership with the leader's view of its replication (Match 0 and Lag -1 when this node is not the leader).</summary>
    public sealed record MemberInfo(int NodeId, bool Voter, long MatchIndex, long Lag);

    public sealed record Members(IReadOnlyList<MemberInfo> Servers, int? LeaderId, long CommitIndex);

    public sealed record TransferDone(int LeaderId, long Term);

    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>
    /// Answered with <see cref="RaftReady"/> once the replica has recovered its journal and knows a leader, so it can
    /// serve requests (at once if it already can). An embedder's readiness signal: see <c>DistSysRaft.WhenReadyAsync</c>.
    /// </summary>
    public sealed record AwaitReady
    {
        public static readonly AwaitReady Instance = new();
    }

    public sealed record RaftReady(int LeaderId, long Term);

    /// <summary>
    /// What /status shows. Raft.SnapshotIndex is the last snapshot (the log starts at FirstLogIndex after it) and
    /// Raft.Membership the latest in the log; CommittedMembership is the one of the applied entries.
    /// </summary>
    public sealed record NodeStatus(RaftStatus Raft, int PendingWrites, int PendingReads, int Sessions, bool Recovered)
    {
        public long FirstLogIndex { get; init; }
        public Membership? CommittedMembership { get; init; }
        /// <summary>A snapshot save is in flight (taken here or installed from the leader).</summary>
        public bool SnapshotSaving { get; init; }
        public int PendingAdmin { get; init; }
        /// <summary>The Raft group this replica belongs to.</summary>
        public string Group { get; init; } = DefaultGroup;
        /// <summary>Replication lag as this replica sees it (per follower on a leader), read when the status was asked for.</summary>
        public ReplicationStatus? Replication { get; init; }
    }
}
