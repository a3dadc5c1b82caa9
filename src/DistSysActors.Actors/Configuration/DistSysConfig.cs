using System.Reflection;
using Akka.Configuration;

namespace DistSysActors.Actors.Configuration;

/// <summary>The HOCON files embedded in this assembly (hocon/ in the repository).</summary>
public static class DistSysConfig
{
    /// <summary>Every distsys.* key with its default; the fallback of every configuration.</summary>
    /// Akka.Cluster.Tools' singleton defaults are part of it, so their serializer is bound before the system starts.
    public static Config Reference { get; } = Load("DistSysActors.reference.conf")
        .WithFallback(Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig());

    /// <summary>Overlay for a `distsys node` host: cluster on loopback, throttler adapter, Split Brain Resolver.</summary>
    public static Config NodeOverlay { get; } = Load("DistSysActors.node.conf");

    /// <summary>
    /// Overlay for tests: in-memory journal, serialize-messages on, and <c>akka.test.timefactor</c> from
    /// <see cref="TestTimeFactor"/>, so every TestKit wait stretches on a loaded machine.
    /// </summary>
    public static Config TestOverlay { get; } = ConfigurationFactory
        .ParseString(FormattableString.Invariant($"akka.test.timefactor = {TestTimeFactor}"))
        .WithFallback(Load("DistSysActors.test.conf"));

    /// <summary>The environment variable that stretches test time windows (a number from 1 to 100, default 1).</summary>
    public const string TestTimeFactorVariable = "AKKA_TEST_TIMEFACTOR";

    /// <summary>
    /// How much a test's time windows are stretched: Akka's <c>akka.test.timefactor</c>, read from
    /// <see cref="TestTimeFactorVariable"/>. Tests outside the TestKit scale their windows by it too.
    /// </summary>
    public static double TestTimeFactor => ReadTestTimeFactor(Environment.GetEnvironmentVariable(TestTimeFactorVariable));

    /// <summary>Parses a time factor: empty means 1; anything but a number from 1 to 100 is refused, naming the variable.</summary>
    public static double ReadTestTimeFactor(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return 1.0;
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var factor)
               && factor is >= 1.0 and <= 100.0
            ? factor
            : throw new ArgumentException($"{TestTimeFactorVariable} must be a number from 1 to 100, was '{text}'");
    }

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
