using System.Globalization;
using System.Runtime.CompilerServices;

namespace DistSysActors.Simulation;

/// <summary>
/// Runs a seeded scenario over many seeds. Environment knobs: <c>DISTSYS_SEEDS</c> (how many seeds, default given by
/// the test), <c>DISTSYS_SEED_BASE</c> (first seed, default 1), <c>DISTSYS_SEED</c> (run just that one seed, to replay a failure),
/// <c>DISTSYS_FRESH_SEED_BASE</c> (also run <c>DISTSYS_FRESH_SEEDS</c> seeds from there, default 3: CI draws a new base per run,
/// so coverage grows while the fixed seeds keep every run comparable).
/// </summary>
public static class SeedRunner
{
    public const string SeedsVariable = "DISTSYS_SEEDS";
    public const string SeedBaseVariable = "DISTSYS_SEED_BASE";
    public const string SeedVariable = "DISTSYS_SEED";
    public const string FreshSeedBaseVariable = "DISTSYS_FRESH_SEED_BASE";
    public const string FreshSeedsVariable = "DISTSYS_FRESH_SEEDS";
    public const int FreshSeedsDefault = 3;
    public const int SeedsMax = 10_000_000;

    /// <summary>The seeds a run covers, as the environment and <paramref name="defaultSeeds"/> decide.</summary>
    public static IReadOnlyList<long> Seeds(int defaultSeeds, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (ReadLong(environment, SeedVariable) is { } single) return [single];
        var count = ReadLong(environment, SeedsVariable) ?? defaultSeeds;
        if (count < 1 || count > SeedsMax) throw new ArgumentException($"{SeedsVariable} must be within 1..{SeedsMax}, was {count}");
        var first = ReadLong(environment, SeedBaseVariable) ?? 1;
        var seeds = new List<long>((int)count);
        for (var i = 0; i < count; i++) seeds.Add(first + i);
        if (ReadLong(environment, FreshSeedBaseVariable) is { } freshBase)
        {
            var fresh = ReadLong(environment, FreshSeedsVariable) ?? FreshSeedsDefault;
            if (fresh < 0 || fresh > SeedsMax) throw new ArgumentException($"{FreshSeedsVariable} must be within 0..{SeedsMax}, was {fresh}");
            for (var i = 0; i < fresh; i++)
                if (!seeds.Contains(freshBase + i)) seeds.Add(freshBase + i);
        }
        return seeds;
    }

    /// <summary>
    /// Runs <paramref name="scenario"/> once per seed, stopping at the first failure with an exception whose message
    /// starts with <c>seed=&lt;n&gt;</c> and says how to replay it.
    /// </summary>
    public static void Run(int defaultSeeds, Action<long> scenario, [CallerMemberName] string scenarioName = "",
        Func<string, string?>? environment = null)
    {
        var seeds = Seeds(defaultSeeds, environment);
        foreach (var seed in seeds)
        {
            try
            {
                scenario(seed);
            }
            catch (Exception e)
            {
                throw new SeedFailedException(seed,
                    $"seed={seed} failed in {scenarioName} ({seeds.Count} seeds from {seeds[0]}): {e.Message}\n" +
                    $"replay: {SeedVariable}={seed} dotnet test --filter \"FullyQualifiedName~{scenarioName}\"", e);
            }
        }
    }

    private static long? ReadLong(Func<string, string?> environment, string name)
    {
        var text = environment(name);
        if (string.IsNullOrWhiteSpace(text)) return null;
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"{name} must be an integer, was '{text}'");
    }
}

/// <summary>A scenario failed for one seed; <see cref="Exception.InnerException"/> is the original failure.</summary>
public sealed class SeedFailedException(long seed, string message, Exception inner) : Exception(message, inner)
{
    public long Seed { get; } = seed;
}
