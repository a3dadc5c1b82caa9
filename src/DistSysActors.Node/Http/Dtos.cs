using System.Collections.Immutable;
using DistSysActors.Core;
using DistSysActors.Core.Network;

namespace DistSysActors.Node.Http;

/// <summary>The JSON shapes of the HTTP contract (README: HTTP API), shared by the server and the CLI client.</summary>
public sealed record StatusDto(
    int NodeId, string Address, int Nodes, long Incarnation, int Restarts, string SelfStatus,
    IReadOnlyList<MemberDto> Members, NetworkDto Network, IReadOnlyList<PingPeerDto> Ping, RaftDto? Raft,
    FailureDetectorDto? FailureDetector = null,
    ClockDto? Clock = null,
    ProcessDto? Process = null,
    ReplicationDto? Replication = null,
    PaxosDto? Paxos = null);

/// <summary>
/// The Raft view of this node; role is Leader, Follower, Candidate or PreCandidate. <c>snapshotIndex</c> is the last
/// index the log was compacted into a snapshot at (0: none), <c>firstLogIndex</c> the first index the log still holds;
/// <c>voters</c>/<c>learners</c> the membership in force here (the latest in its log); <c>group</c> the Raft group.
/// </summary>
/// <summary><c>/status.paxos</c>: the Multi-Paxos replica (ballot "round.node"; the slots decided so far).</summary>
public sealed record PaxosDto(string Role, string Ballot, int? LeaderId, long FirstUnchosenSlot, long LastDecidedSlot, long AppliedSlot = 0,
    long SnapshotSlot = 0, string Promised = "0.0");

public sealed record RaftDto(string Role, long Term, int? LeaderId, long CommitIndex, long LastApplied, long LastLogIndex,
    long SnapshotIndex = 0, long FirstLogIndex = 1, int[]? Voters = null, int[]? Learners = null, string Group = "default");

/// <summary>
/// <c>/status.replication</c>: this node's own applied index and apply lag (<c>lagMs</c> null when it hears from no
/// leader), how long ago it last heard from its leader, on the leader one <see cref="ReplicaDto"/> per follower, and
/// <c>appliedAgoMs</c>: how long ago its applied index last moved (a lower bound on the age of its newest applied entry).
/// </summary>
public sealed record ReplicationDto(
    int NodeId, string Role, int? LeaderId, long CommitIndex, long AppliedIndex, long? LagMs, long? LeaderContactAgoMs,
    IReadOnlyList<ReplicaDto> Replicas, long? AppliedAgoMs = null)
{
    public static ReplicationDto From(Core.Raft.ReplicationStatus r) => new(
        r.Id.Value, r.Role.ToString(), r.LeaderId?.Value, r.CommitIndex, r.AppliedIndex, r.LagMs, r.LeaderContactAgoMs,
        r.Replicas.Select(p => new ReplicaDto(p.Node.Value, p.MatchIndex, p.AppliedIndex, p.ApplyLagEntries, p.ApplyLagMs,
            p.Voter, p.SentIndex, p.WriteLagEntries, p.WriteLagMs, p.LinkUp, p.HeardAgoMs)).ToList(), r.AppliedAgoMs);
}

/// <summary>
/// The leader's view of one follower. <c>lagEntries</c>/<c>lagMs</c>: entries committed on the leader that the follower
/// has not applied, and how long the leader has held the oldest of them (apply lag: what its readers miss);
/// <c>writeLagEntries</c>/<c>writeLagMs</c> the same for entries it does not hold durably. All four are null while the
/// link is down (<c>linkUp</c> false: no answer for an election timeout), never 0. <c>sentIndex</c>: the last entry sent.
/// </summary>
public sealed record ReplicaDto(
    int NodeId, long MatchIndex, long AppliedIndex, long? LagEntries, long? LagMs,
    bool Voter, long SentIndex, long? WriteLagEntries, long? WriteLagMs, bool LinkUp, long HeardAgoMs);

/// <summary><c>GET /admin/members</c>: the servers, the leader this node knows and its commit index.</summary>
public sealed record MembersDto(IReadOnlyList<MemberInfoDto> Servers, int? LeaderId, long CommitIndex);

/// <summary>One server: <c>matchIndex</c> and <c>lag</c> (leader's last index minus match) are the leader's view; 0 and -1 from a follower.</summary>
public sealed record MemberInfoDto(int NodeId, bool Voter, long MatchIndex, long Lag);

/// <summary><c>POST /admin/raft/transfer</c>: the node that leads now and its term.</summary>
public sealed record TransferDto(int LeaderId, long Term);

/// <summary>
/// The clock service of this node (README, Clocks): <c>skewMs</c> injected, <c>offsetMs</c> estimated raw local clock
/// minus the reference, <c>residualOffsetMs</c> the disciplined clock's, <c>correctedMs</c> the synchronized reading;
/// <c>injectedOffsetMs</c>/<c>correctedOffsetMs</c> are raw/disciplined minus the host clock (a demonstration's truth).
/// </summary>
public sealed record ClockDto(
    long SkewMs, int ReferenceNodeId, double? OffsetMs, long? DelayMs, HlcDto Hlc, bool Synced,
    string Mode, double DriftPpm, long InjectedOffsetMs, double? ResidualOffsetMs, double? ErrorBoundMs, double CorrectionMs,
    double CorrectedOffsetMs, long CorrectedMs, long StepCount, long SamplesUsed, long HlcMaxOffsetMs, long HlcRejected);

/// <summary>A hybrid logical clock timestamp: l (<c>wallMs</c>) and c (<c>logical</c>).</summary>
public sealed record HlcDto(long WallMs, long Logical);

/// <summary>A cluster member as Akka.Cluster sees it; <c>http</c> is the HTTP base address it carries (role <c>http=URL</c>).</summary>
public sealed record MemberDto(int? NodeId, string Address, string Status, bool Reachable, string? Http = null);

public sealed record NetworkDto(FaultSpecDto Faults, long Seed, NetworkCountersDto Counters);

public sealed record NetworkCountersDto(
    long Sent, long Delivered, long DroppedByPartition, long Dropped, long Delayed, long Duplicated,
    long ReceivedDelivered, long ReceivedDroppedByPartition, long Unroutable, long OverflowDropped, int DelayedNow);

public sealed record PingPeerDto(int NodeId, long PingsSent, long PingsReceived, long PongsReceived, long? LastRttMs, long? LastPongAgeMs);

public sealed record FaultSpecDto(int[][] Partitions, double DropRate, int[] DelayMs, double DuplicateRate, bool Reorder, long? Seed)
{
    public static FaultSpecDto From(FaultSpec spec) => new(
        spec.Partitions.IsDefaultOrEmpty ? [] : spec.Partitions.Select(g => g.Select(n => n.Value).ToArray()).ToArray(),
        spec.DropRate, [spec.DelayMinMs, spec.DelayMaxMs], spec.DuplicateRate, spec.Reorder, spec.Seed);

    public FaultSpec ToSpec() => new()
    {
        Partitions = Partitions.Select(g => g.Select(n => new NodeId(n)).ToImmutableArray()).ToImmutableArray(),
        DropRate = DropRate,
        DelayMinMs = DelayMs.Length > 0 ? DelayMs[0] : 0,
        DelayMaxMs = DelayMs.Length > 1 ? DelayMs[1] : 0,
        DuplicateRate = DuplicateRate,
        Reorder = Reorder,
        Seed = Seed,
    };
}

public sealed record ErrorDto(
    string Error,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);
