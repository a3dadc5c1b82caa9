using Akka.Configuration;
using DistSysActors.Actors.Configuration;
using DistSysActors.Core.Gossip;

namespace DistSysActors.Actors.Gossip;

/// <summary>The distsys.gossip section: whether SWIM and the AP store run, the actors' tick, and the cores' settings.</summary>
public sealed record GossipSettings(bool Enabled, int TickMs, SwimConfig Swim, ApStoreConfig Ap)
{
    public const string Section = "distsys.gossip";
    private const string ApSection = Section + ".ap";

    public static GossipSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        var ap = c.GetConfig("ap") ?? throw new ConfigurationException($"{ApSection} is missing");
        var swim = new SwimConfig
        {
            PeriodMs = ConfigReader.Int(c, Section, "period-ms", 10, 3_600_000),
            PingTimeoutMs = ConfigReader.Int(c, Section, "ping-timeout-ms", 1, 3_600_000),
            IndirectProbes = ConfigReader.Int(c, Section, "indirect-probes", 0, 100),
            RetransmitMult = ConfigReader.Int(c, Section, "retransmit-mult", 1, 100),
            PiggybackMax = ConfigReader.Int(c, Section, "piggyback-max", 1, 1_000),
            SuspicionMult = ConfigReader.Int(c, Section, "suspicion-mult", 1, 100),
            SuspicionMaxMult = ConfigReader.Int(c, Section, "suspicion-max-mult", 1, 100),
            SyncEveryRounds = ConfigReader.Int(c, Section, "sync-every-rounds", 0, 1_000_000),
        };
        var store = new ApStoreConfig
        {
            ExchangeIntervalMs = ConfigReader.Int(ap, ApSection, "exchange-interval-ms", 10, 3_600_000),
            TombstoneTtlMs = ConfigReader.Long(ap, ApSection, "tombstone-ttl-ms", 1, long.MaxValue / 4),
            KeysMax = ConfigReader.Int(ap, ApSection, "keys-max", 1, 10_000_000),
            KeyLengthMax = ConfigReader.Int(ap, ApSection, "key-length-max", 1, 4_096),
            ValueBytesMax = ConfigReader.Int(ap, ApSection, "value-bytes-max", 0, 16 * 1024 * 1024),
        };
        var errors = swim.Validate().Concat(store.Validate()).ToList();
        if (errors.Count > 0) throw new ConfigurationException($"{Section}: {string.Join("; ", errors)}");
        return new GossipSettings(ConfigReader.Bool(c, Section, "enabled"), ConfigReader.Int(c, Section, "tick-ms", 1, 60_000), swim, store);
    }
}
