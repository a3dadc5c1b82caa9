using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core.Transactions;

namespace DistSysActors.Actors.Transactions;

/// <summary>The distsys.txn section: distributed transactions (2PC, 3PC, sagas).</summary>
public sealed record TxnSettings(bool Enabled, string Mode, int Shards, int TickMs, TxnConfig Config, int SnapshotEveryEvents)
{
    public const string Section = "distsys.txn";
    public const string Classic = "classic";
    public const string Replicated = "replicated";

    public static TxnSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        var mode = ConfigReader.String(c, Section, "mode", Classic, Replicated);
        return new TxnSettings(
            Enabled: ConfigReader.Bool(c, Section, "enabled"),
            Mode: mode,
            Shards: ConfigReader.Int(c, Section, "shards", 1, 64),
            TickMs: ConfigReader.Int(c, Section, "tick-ms", 1, 60_000),
            Config: new TxnConfig
            {
                VoteTimeoutMs = ConfigReader.Int(c, Section, "vote-timeout-ms", 1, 3_600_000),
                RetryMs = ConfigReader.Int(c, Section, "retry-ms", 1, 600_000),
                DecisionTimeoutMs = ConfigReader.Int(c, Section, "decision-timeout-ms", 1, 3_600_000),
                PreCommitTimeoutMs = ConfigReader.Int(c, Section, "precommit-timeout-ms", 1, 3_600_000),
                LockTimeoutMs = ConfigReader.Int(c, Section, "lock-timeout-ms", 0, 3_600_000),
                TerminationPollMs = ConfigReader.Int(c, Section, "termination-poll-ms", 1, 600_000),
                OutcomesMax = ConfigReader.Int(c, Section, "outcomes-max", 1, 10_000_000),
            },
            SnapshotEveryEvents: ConfigReader.Int(c, Section, "snapshot-every-events", 1, 100_000_000));
    }
}
