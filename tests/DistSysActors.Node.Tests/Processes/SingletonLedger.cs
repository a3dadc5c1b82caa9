namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// The Cluster Singleton's ledger (distsys.singleton.ledger-file under the cluster's data directory): every instance
/// appends "node incarnation count" on each tick, so two instances at once show up as interleaved incarnations.
/// </summary>
public sealed class SingletonLedger(ProcessCluster cluster)
{
    public string Path { get; } = System.IO.Path.Combine(cluster.DataDir, "singleton.ledger");

    /// <summary>The incarnations of the lines written so far, in file order (a torn line from two writers at once is skipped).</summary>
    public IReadOnlyList<string> Incarnations()
    {
        if (!File.Exists(Path)) return [];
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var incarnations = new List<string>();
        while (reader.ReadLine() is { } line)
            if (line.Split(' ') is [_, var incarnation, _] && incarnation.StartsWith('n')) incarnations.Add(incarnation);
        return incarnations;
    }

    /// <summary>
    /// Whether <paramref name="older"/> wrote a line after <paramref name="newer"/>'s first one: both instances ran at
    /// once. Only lines from index <paramref name="from"/> on count.
    /// </summary>
    public static bool Overlap(IReadOnlyList<string> incarnations, string older, string newer, int from = 0)
    {
        var newerSeen = false;
        for (var i = from; i < incarnations.Count; i++)
        {
            if (incarnations[i] == newer) newerSeen = true;
            else if (newerSeen && incarnations[i] == older) return true;
        }
        return false;
    }

    /// <summary>Whether any incarnation wrote again after another one had started writing, from index <paramref name="from"/> on.</summary>
    public static bool AnyOverlap(IReadOnlyList<string> incarnations, int from = 0)
    {
        var finished = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        for (var i = from; i < incarnations.Count; i++)
        {
            if (incarnations[i] == current) continue;
            if (finished.Contains(incarnations[i])) return true;
            if (current is not null) finished.Add(current);
            current = incarnations[i];
        }
        return false;
    }
}
