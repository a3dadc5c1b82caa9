using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core;
using DistSysActors.Core.Paxos;

namespace DistSysActors.Actors.Paxos;

/// <summary>The distsys.paxos section: Basic Paxos registers and the Multi-Paxos replica (when distsys.kv.consensus = paxos).</summary>
public sealed record PaxosSettings(
    bool Enabled, int TickMs, int HeartbeatIntervalMs, int ElectionTimeoutMs, int LeaseDriftMs, int RetransmitMs,
    int SnapshotEverySlots, int CompactionMarginSlots, int RoundTimeoutMs, int BackoffBaseMs, int BackoffMaxMs, int AttemptsMax, long Seed)
{
    public const string Section = "distsys.paxos";

    public static PaxosSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        var settings = new PaxosSettings(
            Enabled: ConfigReader.Bool(c, Section, "enabled"),
            TickMs: ConfigReader.Int(c, Section, "tick-ms", 1, 60_000),
            HeartbeatIntervalMs: ConfigReader.Int(c, Section, "heartbeat-interval-ms", 1, 600_000),
            ElectionTimeoutMs: ConfigReader.Int(c, Section, "election-timeout-ms", 2, 3_600_000),
            LeaseDriftMs: ConfigReader.Int(c, Section, "lease-drift-ms", 1, 3_600_000),
            RetransmitMs: ConfigReader.Int(c, Section, "retransmit-ms", 1, 600_000),
            SnapshotEverySlots: ConfigReader.Int(c, Section, "snapshot-every-slots", 1, 100_000_000),
            CompactionMarginSlots: ConfigReader.Int(c, Section, "compaction-margin-slots", 0, 10_000_000),
            RoundTimeoutMs: ConfigReader.Int(c, Section, "round-timeout-ms", 1, 600_000),
            BackoffBaseMs: ConfigReader.Int(c, Section, "backoff-base-ms", 1, 600_000),
            BackoffMaxMs: ConfigReader.Int(c, Section, "backoff-max-ms", 1, 3_600_000),
            AttemptsMax: ConfigReader.Int(c, Section, "attempts-max", 1, 1_000_000),
            Seed: ConfigReader.Long(c, Section, "seed", long.MinValue, long.MaxValue));
        if (settings.ElectionTimeoutMs <= settings.HeartbeatIntervalMs)
            throw new ConfigurationException($"{Section}.election-timeout-ms must exceed {Section}.heartbeat-interval-ms");
        if (settings.LeaseDriftMs >= settings.ElectionTimeoutMs)
            throw new ConfigurationException($"{Section}.lease-drift-ms must be below {Section}.election-timeout-ms");
        if (settings.BackoffMaxMs < settings.BackoffBaseMs)
            throw new ConfigurationException($"{Section}.backoff-max-ms must be at least {Section}.backoff-base-ms");
        return settings;
    }

    public MultiPaxosConfig ConfigFor(NodeId self, IEnumerable<NodeId> nodes) => new()
    {
        Id = self,
        Nodes = [.. nodes.Append(self).Distinct().Order()],
        HeartbeatIntervalMs = HeartbeatIntervalMs,
        ElectionTimeoutMs = ElectionTimeoutMs,
        LeaseDriftMs = LeaseDriftMs,
        RetransmitMs = RetransmitMs,
        CompactionMarginSlots = CompactionMarginSlots,
    };

    public RegisterProposerOptions ProposerOptions => new()
    {
        RoundTimeoutMs = RoundTimeoutMs,
        Backoff = new PaxosBackoff(BackoffBaseMs, BackoffMaxMs),
        AttemptsMax = AttemptsMax,
    };

    /// <summary>The seed a node's random source starts from: the configured one, else derived from the node and the time.</summary>
    public long SeedFor(NodeId self) => Seed != 0 ? Seed ^ self.Value : (long)self.Value * 1_000_003 ^ DateTime.UtcNow.Ticks;
}

/// <summary>The distsys.kv section: which consensus engine serves the key-value store.</summary>
public sealed record KvConsensusSettings(string Consensus)
{
    public const string Section = "distsys.kv";
    public const string Raft = "raft";
    public const string Paxos = "paxos";

    public bool IsPaxos => Consensus == Paxos;

    public static KvConsensusSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        return new KvConsensusSettings(ConfigReader.String(c, Section, "consensus", Raft, Paxos));
    }
}
