using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Actors.KeyValue;

namespace DistSysActors.Actors.Raft;

/// <summary>The distsys.raft section.</summary>
/// <remarks>PendingRequestsMax bounds the replica's own waiters (AwaitReady); the hosted service reads its own copy in <see cref="Kv"/>.</remarks>
public sealed record RaftSettings(
    bool Enabled, int TickMs, int ElectionTicks, int HeartbeatTicks, bool PreVote, bool CheckQuorum, int LeaseClockDriftTicks,
    long Seed, int PendingRequestsMax)
{
    /// <summary>The settings of the key-value service a replica hosts by default (read from the same configuration).</summary>
    public KvSettings Kv { get; init; } = KvSettings.Default;

    /// <summary>Applied entries held after the last snapshot that trigger a new one (then the journal is truncated).</summary>
    public int SnapshotEntries { get; init; } = 10_000;
    public int SnapshotChunkBytes { get; init; } = 64 * 1024;
    public int SnapshotChunksInflightMax { get; init; } = 4;
    public int CompactionMarginEntries { get; init; } = 1_000;
    public int AppendEntriesMax { get; init; } = 64;
    public int AppendBytesMax { get; init; } = 1 << 20;
    public int InflightMessagesMax { get; init; } = 64;
    public long InflightBytesMax { get; init; } = 16L << 20;
    public int UncommittedEntriesMax { get; init; } = 10_000;
    public bool AutoPromoteLearners { get; init; } = true;
    public int TransferTimeoutElections { get; init; } = 1;
    /// <summary>A follower applies committed entries this many ms after learning of them (a delayed replica, for demonstrations); 0: at once.</summary>
    public int ApplyDelayMs { get; init; }

    public const string Section = "distsys.raft";

    public static RaftSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        var electionTicks = ConfigReader.Int(c, Section, "election-ticks", 2, 10_000);
        var settings = new RaftSettings(
            Enabled: ConfigReader.Bool(c, Section, "enabled"),
            TickMs: ConfigReader.Int(c, Section, "tick-ms", 1, 60_000),
            ElectionTicks: electionTicks,
            HeartbeatTicks: ConfigReader.Int(c, Section, "heartbeat-ticks", 1, 10_000),
            PreVote: ConfigReader.Bool(c, Section, "pre-vote"),
            CheckQuorum: ConfigReader.Bool(c, Section, "check-quorum"),
            LeaseClockDriftTicks: ConfigReader.Int(c, Section, "lease-clock-drift-ticks", 0, 10_000),
            Seed: ConfigReader.Long(c, Section, "seed", long.MinValue, long.MaxValue),
            PendingRequestsMax: ConfigReader.Int(c, Section, "pending-requests-max", 1, 10_000_000));
        settings = settings with
        {
            Kv = KvSettings.Create(config),
            SnapshotEntries = ConfigReader.Int(c, Section, "snapshot-entries", 1, 100_000_000),
            SnapshotChunkBytes = ConfigReader.Int(c, Section, "snapshot-chunk-bytes", 1024, 64 << 20),
            SnapshotChunksInflightMax = ConfigReader.Int(c, Section, "snapshot-chunks-inflight-max", 1, 1_024),
            CompactionMarginEntries = ConfigReader.Int(c, Section, "compaction-margin-entries", 0, 10_000_000),
            AppendEntriesMax = ConfigReader.Int(c, Section, "append-entries-max", 1, 100_000),
            AppendBytesMax = ConfigReader.Int(c, Section, "append-bytes-max", 1024, 256 << 20),
            InflightMessagesMax = ConfigReader.Int(c, Section, "inflight-messages-max", 1, 100_000),
            InflightBytesMax = ConfigReader.Long(c, Section, "inflight-bytes-max", 1024, 1L << 40),
            UncommittedEntriesMax = ConfigReader.Int(c, Section, "uncommitted-entries-max", 1, 10_000_000),
            AutoPromoteLearners = ConfigReader.Bool(c, Section, "auto-promote-learners"),
            TransferTimeoutElections = ConfigReader.Int(c, Section, "transfer-timeout-elections", 1, 100),
            ApplyDelayMs = ConfigReader.Int(c, Section, "apply-delay-ms", 0, 3_600_000),
        };
        if (settings.HeartbeatTicks >= electionTicks)
            throw new ConfigurationException($"{Section}.heartbeat-ticks {settings.HeartbeatTicks} must be below {Section}.election-ticks {electionTicks}");
        if (settings.LeaseClockDriftTicks >= electionTicks)
            throw new ConfigurationException($"{Section}.lease-clock-drift-ticks {settings.LeaseClockDriftTicks} must be below {Section}.election-ticks {electionTicks}");
        return settings;
    }
}
