using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core.Election;

namespace DistSysActors.Actors.Election;

/// <summary>The distsys.bully section: whether the Bully election runs, its tick, and the core's timeouts.</summary>
public sealed record BullySettings(bool Enabled, int TickMs, BullyConfig Core)
{
    public const string Section = "distsys.bully";

    public static BullySettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        var core = new BullyConfig(
            AnswerTimeoutMs: ConfigReader.Long(c, Section, "answer-timeout-ms", 1, 600_000),
            CoordinatorTimeoutMs: ConfigReader.Long(c, Section, "coordinator-timeout-ms", 1, 600_000),
            HeartbeatIntervalMs: ConfigReader.Long(c, Section, "heartbeat-interval-ms", 1, 600_000),
            LeaderTimeoutMs: ConfigReader.Long(c, Section, "leader-timeout-ms", 2, 600_000));
        if (core.LeaderTimeoutMs <= core.HeartbeatIntervalMs)
            throw new ConfigurationException($"{Section}.leader-timeout-ms must exceed {Section}.heartbeat-interval-ms");
        return new BullySettings(ConfigReader.Bool(c, Section, "enabled"), ConfigReader.Int(c, Section, "tick-ms", 1, 60_000), core);
    }
}

/// <summary>The distsys.election section: how the lease-based election keeps the replicated leader clock fresh.</summary>
public sealed record ElectionSettings(int LeaseClockIntervalMs)
{
    public const string Section = "distsys.election";

    public static readonly ElectionSettings Default = new(200);

    public static ElectionSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        return new ElectionSettings(ConfigReader.Int(c, Section, "lease-clock-interval-ms", 10, 60_000));
    }
}
