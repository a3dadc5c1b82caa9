using System.Reflection;
using Akka.Configuration;

namespace DistSysActors.Actors.Configuration;

/// <summary>The HOCON files embedded in this assembly (hocon/ in the repository).</summary>
public static class DistSysConfig
{
    /// <summary>Every distsys.* key with its default; the fallback of every configuration.</summary>
    public static Config Reference { get; } = Load("DistSysActors.reference.conf");

    /// <summary>Overlay for a `distsys node` host: cluster on loopback, throttler adapter, Split Brain Resolver.</summary>
    public static Config NodeOverlay { get; } = Load("DistSysActors.node.conf");

    /// <summary>Overlay for tests: in-memory journal, serialize-messages on.</summary>
    public static Config TestOverlay { get; } = Load("DistSysActors.test.conf");

    /// <summary>Whether <paramref name="path"/> is a key the reference configuration defines (used to reject unknown overrides).</summary>
    public static bool IsKnownKey(string path)
    {
        try { return Reference.HasPath(path) && !Reference.GetValue(path).IsObject(); }
        catch (Exception) { return false; }
    }

    private static Config Load(string resource)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded configuration {resource} is missing");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
