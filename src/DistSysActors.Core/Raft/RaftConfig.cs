using System.Collections.Immutable;

namespace DistSysActors.Core.Raft;

/// <summary>Static configuration of one Raft node. Times are in ticks of the host's clock.</summary>
public sealed record RaftConfig
{
    public required NodeId Id { get; init; }
    /// <summary>
    /// The voters a fresh node starts with, this node included; ignored once the node has a snapshot or membership
    /// entries in its log. Empty for a node that waits to be added to a running cluster (it never campaigns until a
    /// leader has made it a voter).
    /// </summary>
    public required ImmutableArray<NodeId> Voters { get; init; }
    /// <summary>Base election timeout; each wait is drawn from [ElectionTicks, 2 * ElectionTicks).</summary>
    public int ElectionTicks { get; init; } = 10;
    /// <summary>
    /// The host's tick interval in ms (30 by default, the actor's reference raft.tick-ms). It turns tick counts into
    /// time on the host's monotonic clock: a leader's lease lasts (ElectionTicks - LeaseClockDriftTicks) * TickMs from
    /// the moment its heartbeat round was sent. A host that passes its clock to the core must set it to its real tick
    /// interval (a value above it makes leases too long); a host that passes none gets a clock of TickMs per tick.
    /// </summary>
    public int TickMs { get; init; } = 30;
    public int HeartbeatTicks { get; init; } = 1;
    public bool PreVote { get; init; } = true;
    public bool CheckQuorum { get; init; } = true;
    /// <summary>
    /// Subtracted from the election timeout to bound a lease: covers ticks running at different rates on different nodes,
    /// and at least 1 because a follower's first tick after a heartbeat may come at once (tick phase).
    /// </summary>
    public int LeaseClockDriftTicks { get; init; } = 2;
    public int AppendEntriesMax { get; init; } = 64;
    public int AppendBytesMax { get; init; } = 1 << 20;
    /// <summary>AppendEntries messages in flight per follower in the replicate state.</summary>
    public int InflightMessagesMax { get; init; } = 64;
    /// <summary>Entry bytes in flight per follower in the replicate state (one message may exceed it alone).</summary>
    public long InflightBytesMax { get; init; } = 16L << 20;
    /// <summary>Proposals beyond this many uncommitted entries are dropped (back pressure).</summary>
    public int UncommittedEntriesMax { get; init; } = 10_000;
    public int EntryBytesMax { get; init; } = 1 << 20;
    /// <summary>Reads waiting for confirmation or application; more are dropped.</summary>
    public int ReadsPendingMax { get; init; } = 4_096;
    /// <summary>Committed entries handed out in one Ready.</summary>
    public int ApplyEntriesMax { get; init; } = 1_024;
    /// <summary>Followers forward proposals to the leader instead of dropping them.</summary>
    public bool ProposalForwarding { get; init; } = true;
    /// <summary>Bytes of snapshot data in one InstallSnapshot message.</summary>
    public int SnapshotChunkBytes { get; init; } = 64 * 1024;
    /// <summary>InstallSnapshot chunks a leader keeps in flight to one follower (sent before the first is acknowledged).</summary>
    public int SnapshotChunksInflightMax { get; init; } = 4;
    /// <summary>
    /// Entries before a snapshot's index that compaction keeps in memory (etcd's snapshot catch-up entries), so a
    /// follower a little behind catches up by appends instead of a whole snapshot.
    /// </summary>
    public int CompactionMarginEntries { get; init; } = 1_000;
    /// <summary>Largest snapshot a follower assembles from chunks; a larger one is refused (answered with offset 0).</summary>
    public long SnapshotBytesMax { get; init; } = 1L << 30;
    /// <summary>The leader promotes a learner to voter by itself once the learner's log has caught up.</summary>
    public bool AutoPromoteLearners { get; init; } = true;
    /// <summary>Election timeouts a leadership transfer may take before the leader gives up and accepts proposals again.</summary>
    public int TransferTimeoutElections { get; init; } = 1;
    /// <summary>
    /// A follower or learner applies a committed entry only this many ms after it learned that it is committed (a
    /// delayed replica, like PostgreSQL's recovery_min_apply_delay), to demonstrate replication lag; a leader applies at
    /// once. Measured on the host's clock, checked every tick. 0: no delay.
    /// </summary>
    public long ApplyDelayMs { get; init; }

    public const int VotersMax = 64;

    /// <summary>Every problem with this config, each naming its field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Voters.IsDefault) errors.Add("Voters must be set (empty for a node joining a running cluster)");
        else if (!Voters.IsEmpty)
        {
            if (!Voters.Contains(Id)) errors.Add($"Voters must contain Id {Id}");
            if (Voters.Distinct().Count() != Voters.Length) errors.Add("Voters must be distinct");
            if (Voters.Length > VotersMax) errors.Add($"Voters must number at most {VotersMax}");
        }
        if (HeartbeatTicks < 1) errors.Add("HeartbeatTicks must be at least 1");
        if (TickMs < 1) errors.Add("TickMs must be at least 1");
        if (ElectionTicks <= HeartbeatTicks) errors.Add("ElectionTicks must exceed HeartbeatTicks");
        if (LeaseClockDriftTicks < 1 || LeaseClockDriftTicks >= ElectionTicks) errors.Add("LeaseClockDriftTicks must be within [1, ElectionTicks)");
        if (AppendEntriesMax < 1) errors.Add("AppendEntriesMax must be at least 1");
        if (AppendBytesMax < 1) errors.Add("AppendBytesMax must be at least 1");
        if (InflightMessagesMax < 1) errors.Add("InflightMessagesMax must be at least 1");
        if (InflightBytesMax < 1) errors.Add("InflightBytesMax must be at least 1");
        if (UncommittedEntriesMax < 1) errors.Add("UncommittedEntriesMax must be at least 1");
        if (EntryBytesMax < 1) errors.Add("EntryBytesMax must be at least 1");
        if (ReadsPendingMax < 1) errors.Add("ReadsPendingMax must be at least 1");
        if (ApplyEntriesMax < 1) errors.Add("ApplyEntriesMax must be at least 1");
        if (SnapshotChunkBytes < 1) errors.Add("SnapshotChunkBytes must be at least 1");
        if (SnapshotChunksInflightMax < 1) errors.Add("SnapshotChunksInflightMax must be at least 1");
        if (CompactionMarginEntries < 0) errors.Add("CompactionMarginEntries must not be negative");
        if (SnapshotBytesMax < 1 || SnapshotBytesMax > Array.MaxLength) errors.Add($"SnapshotBytesMax must be within [1, {Array.MaxLength}]");
        if (TransferTimeoutElections < 1) errors.Add("TransferTimeoutElections must be at least 1");
        if (ApplyDelayMs < 0) errors.Add("ApplyDelayMs must not be negative");
        return errors;
    }
}
