using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core.ReliableDelivery;

namespace DistSysActors.Actors.ReliableDelivery;

/// <summary>The distsys.delivery section.</summary>
public sealed record DeliverySettings(
    int RedeliverIntervalMs, int RedeliverBurstMax, int OutboxMax, int ConfirmedKeysMax, int KeyLengthMax,
    int DedupIdsMax, int DedupSendersMax, int SnapshotEveryEvents)
{
    public const string Section = "distsys.delivery";

    public OutboxLimits OutboxLimits => new(RedeliverIntervalMs, OutboxMax, RedeliverBurstMax, ConfirmedKeysMax, KeyLengthMax);

    public static DeliverySettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        return new DeliverySettings(
            RedeliverIntervalMs: ConfigReader.Int(c, Section, "redeliver-interval-ms", 1, 3_600_000),
            RedeliverBurstMax: ConfigReader.Int(c, Section, "redeliver-burst-max", 1, 10_000_000),
            OutboxMax: ConfigReader.Int(c, Section, "outbox-max", 1, 10_000_000),
            ConfirmedKeysMax: ConfigReader.Int(c, Section, "confirmed-keys-max", 0, 10_000_000),
            KeyLengthMax: ConfigReader.Int(c, Section, "key-length-max", 1, 65_536),
            DedupIdsMax: ConfigReader.Int(c, Section, "dedup-ids-max", 1, 10_000_000),
            DedupSendersMax: ConfigReader.Int(c, Section, "dedup-senders-max", 1, 1_000_000),
            SnapshotEveryEvents: ConfigReader.Int(c, Section, "snapshot-every-events", 1, 10_000_000));
    }
}
