using Akka.Configuration;
using DistSysActors.Actors.Configuration;

namespace DistSysActors.Actors.Election.Singleton;

/// <summary>The distsys.singleton section: whether the Akka Cluster Singleton runs, its tick, the proxy ask's timeout, and its ledger.</summary>
public sealed record SingletonSettings(bool Enabled, int TickMs, int AskTimeoutMs, string LedgerFile)
{
    public const string Section = "distsys.singleton";

    public static SingletonSettings Create(Config config)
    {
        var c = config.GetConfig(Section) ?? throw new ConfigurationException($"{Section} is missing");
        if (!c.HasPath("ledger-file")) throw new ConfigurationException($"{Section}.ledger-file is missing");
        return new SingletonSettings(
            ConfigReader.Bool(c, Section, "enabled"),
            ConfigReader.Int(c, Section, "tick-ms", 10, 60_000),
            ConfigReader.Int(c, Section, "ask-timeout-ms", 10, 60_000),
            c.GetString("ledger-file") ?? "");
    }

    /// <summary>The ledger's path: relative names are under the data directory every node of a local cluster shares; null when off.</summary>
    public string? LedgerPath(NodeSettings node) =>
        LedgerFile.Length == 0 ? null : Path.IsPathRooted(LedgerFile) ? LedgerFile : Path.Combine(node.DataDir, LedgerFile);

    /// <summary>Whether <paramref name="config"/> runs Akka.Cluster (a singleton needs cluster membership).</summary>
    public static bool IsClusterProvider(Config config) =>
        config.HasPath("akka.actor.provider")
        && (config.GetString("akka.actor.provider") ?? "").Contains("cluster", StringComparison.OrdinalIgnoreCase);
}
