using Akka.Configuration;

namespace DistSysActors.Actors.Configuration;

/// <summary>The distsys.network section: the per-node fault-injecting network component.</summary>
public sealed record NetworkSettings(long Seed, int DelayedMessagesMax, int DelayMaxMs, int ThrottleReconcileMs = 2000)
{
    public const string Section = "distsys.network";

    public static NetworkSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        return new NetworkSettings(
            Seed: ConfigReader.Long(c, Section, "seed", long.MinValue, long.MaxValue),
            DelayedMessagesMax: ConfigReader.Int(c, Section, "delayed-messages-max", 1, 10_000_000),
            DelayMaxMs: ConfigReader.Int(c, Section, "delay-max-ms", 0, Core.Network.FaultSpec.DelayMsMax),
            ThrottleReconcileMs: ConfigReader.Int(c, Section, "throttle-reconcile-ms", 0, 3_600_000));
    }
}

/// <summary>The distsys.ping section: the ping/pong smoke-test protocol.</summary>
public sealed record PingSettings(int IntervalMs)
{
    public const string Section = "distsys.ping";

    public static PingSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        return new PingSettings(ConfigReader.Int(c, Section, "interval-ms", 10, 3_600_000));
    }
}

/// <summary>The distsys.http and distsys.persistence sections.</summary>
public sealed record HostSettings(int RequestTimeoutMs, string Journal, string SqliteFile)
{
    /// <summary>The PostgreSQL connection string (configuration, else environment) when the journal is postgresql.</summary>
    public string? PostgresConnectionString { get; init; }

    /// <summary>Whether the journal keeps the node's state in its database file across restarts (every kind but "memory").</summary>
    public bool DurableJournal => Persistence.SqlitePersistence.IsDurable(Journal);

    /// <summary>Whether the journal is the node's own file under its data dir (SQLite), rather than memory or a database server.</summary>
    public bool FileJournal => Persistence.SqlitePersistence.IsFile(Journal);

    public static HostSettings Create(Config config)
    {
        var http = config.GetConfig("distsys.http") ?? throw new ConfigurationException("distsys.http is missing");
        var persistence = config.GetConfig("distsys.persistence") ?? throw new ConfigurationException("distsys.persistence is missing");
        return new HostSettings(
            RequestTimeoutMs: ConfigReader.Int(http, "distsys.http", "request-timeout-ms", 1, 600_000),
            Journal: ConfigReader.String(persistence, "distsys.persistence", "journal", Persistence.SqlitePersistence.JournalKinds),
            SqliteFile: ConfigReader.String(persistence, "distsys.persistence", "sqlite-file"))
        {
            // A PostgreSQL journal without a connection string fails here, before anything starts.
            PostgresConnectionString = ConfigReader.String(persistence, "distsys.persistence", "journal") == "postgresql"
                ? Persistence.PostgresPersistence.ConnectionString(config) : null,
        };
    }
}
