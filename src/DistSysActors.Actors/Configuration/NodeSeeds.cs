using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;

namespace DistSysActors.Actors.Configuration;

/// <summary>
/// distsys.node.seeds: the Akka.Cluster seed nodes of a cluster spread over several hosts. Each is an actor system
/// address of the system <c>distsys</c> with a host and a port; the scheme may be written akka.tcp whatever transport
/// adapters the node applies (<see cref="WithProtocol"/> rewrites it to the node's own).
/// </summary>
public static class NodeSeeds
{
    /// <summary>Seeds a node accepts at most.</summary>
    public const int SeedsMax = 99;

    public static ImmutableArray<string> Read(Config section, string sectionName)
    {
        if (!section.HasPath("seeds")) return ImmutableArray<string>.Empty;
        IList<string> raw;
        try { raw = section.GetStringList("seeds"); }
        catch (Exception) { throw new ConfigurationException($"{sectionName}.seeds must be a list of addresses such as [\"akka.tcp://distsys@10.0.0.1:4051\"]"); }
        if (raw.Count > SeedsMax) throw new ConfigurationException($"{sectionName}.seeds lists {raw.Count} addresses; at most {SeedsMax}");
        foreach (var seed in raw) Parse(seed, $"{sectionName}.seeds");
        return raw.Count == 0 ? ImmutableArray<string>.Empty : raw.ToImmutableArray();
    }

    /// <summary>Parses one seed address, failing with a message that names <paramref name="key"/> and shows a valid form.</summary>
    public static Address Parse(string seed, string key)
    {
        var schemeEnd = seed.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0) throw Bad(seed, key, "is not an actor system address");
        var scheme = seed[..schemeEnd];
        if (!scheme.StartsWith("akka.", StringComparison.Ordinal) || !scheme.EndsWith(".tcp", StringComparison.Ordinal))
            throw Bad(seed, key, $"has the scheme '{scheme}', not akka.tcp");
        Address address;
        try { address = Address.Parse(seed); }
        catch (Exception) { throw Bad(seed, key, "is not an actor system address"); }
        if (address.Host is null || address.Port is null or <= 0 or > 65535) throw Bad(seed, key, "has no host and port");
        if (address.System != "distsys") throw Bad(seed, key, $"names the actor system '{address.System}', not distsys");
        return address;
    }

    /// <summary>The seed with the scheme of this node's transport (akka.trttl.tcp when the throttler adapter is applied).</summary>
    public static Address WithProtocol(string seed, string protocol)
    {
        var address = Parse(seed, "distsys.node.seeds");
        return new Address(protocol, address.System, address.Host, address.Port);
    }

    private static ConfigurationException Bad(string seed, string key, string problem) =>
        new($"{key}: '{seed}' {problem} (expected e.g. akka.tcp://distsys@10.0.0.1:4051)");
}
