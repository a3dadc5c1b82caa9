using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core.KeyValue;

namespace DistSysActors.Actors.KeyValue;

/// <summary>
/// The key-value service's settings: request limits from the distsys.raft section (value-bytes-max, key-bytes-max,
/// sessions-max, pending-requests-max, where they have always been) and the distsys.idempotency section.
/// </summary>
public sealed record KvSettings(int ValueBytesMax, int KeyBytesMax, int SessionsMax, int PendingRequestsMax)
{
    /// <summary>The section that holds the request limits.</summary>
    public const string Section = "distsys.raft";

    /// <summary>The distsys.idempotency section: Idempotency-Key records in the replicated state.</summary>
    public IdempotencySettings Idempotency { get; init; } = IdempotencySettings.Default;

    /// <summary>The distsys.election section: the leader clock kept fresh while leases are held.</summary>
    public Election.ElectionSettings Election { get; init; } = Actors.Election.ElectionSettings.Default;

    /// <summary>distsys.kv.session-wait-ms: how long a read-your-writes or monotonic read waits for a replica behind its min-index.</summary>
    public int SessionWaitMs { get; init; } = 1_000;

    /// <summary>The distsys.kv section: read guarantees of client sessions.</summary>
    public const string SessionSection = "distsys.kv";

    public static readonly KvSettings Default = new(KvCodec.ValueBytesMax, KvCodec.KeyBytesMax, KeyValueStore.DefaultSessionsMax, 10_000);

    public static KvSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        return new KvSettings(
            ValueBytesMax: ConfigReader.Int(c, Section, "value-bytes-max", 1, KvCodec.ValueBytesMax),
            KeyBytesMax: ConfigReader.Int(c, Section, "key-bytes-max", 1, KvCodec.KeyBytesMax),
            SessionsMax: ConfigReader.Int(c, Section, "sessions-max", 1, 10_000_000),
            PendingRequestsMax: ConfigReader.Int(c, Section, "pending-requests-max", 1, 10_000_000))
        {
            Idempotency = IdempotencySettings.Create(config),
            Election = Actors.Election.ElectionSettings.Create(config),
            SessionWaitMs = ConfigReader.Int(config.GetConfig(SessionSection) ?? throw new ConfigurationException($"{SessionSection} is missing"),
                SessionSection, "session-wait-ms", 0, 600_000),
        };
    }
}

/// <summary>The distsys.idempotency section: Idempotency-Key records in the replicated state.</summary>
public sealed record IdempotencySettings(long TtlMs, int RecordsMax, int LeaderClockIntervalMs)
{
    public const string Section = "distsys.idempotency";

    public static readonly IdempotencySettings Default = new(KeyValueStore.DefaultIdempotencyTtlMs, KeyValueStore.DefaultIdempotencyRecordsMax, 10_000);

    public static IdempotencySettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        return new IdempotencySettings(
            TtlMs: ConfigReader.Long(c, Section, "ttl-ms", 1, long.MaxValue / 4),
            RecordsMax: ConfigReader.Int(c, Section, "records-max", 1, 10_000_000),
            LeaderClockIntervalMs: ConfigReader.Int(c, Section, "leader-clock-interval-ms", 10, 3_600_000));
    }
}
