namespace DistSysActors.Node.Tests.Processes;

/// <summary>
/// The test classes that share one 3-node cluster (<see cref="ClusterOfThree"/>): they run one after another, so a
/// cluster start is paid once for all of them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedClusterCollection : ICollectionFixture<ClusterOfThree>
{
    public const string Name = "shared 3-node process cluster";
}

public sealed class ClusterOfThree : IDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);

    public ProcessCluster Cluster { get; } = new(3);

    /// <summary>
    /// Starts the shared cluster once; later tests get every node running again and no faults, whatever the test
    /// before them left behind (a kill it did not undo, a partition it did not heal), so one failure does not cascade.
    /// </summary>
    public async Task EnsureRunningAsync()
    {
        if (!File.Exists(Path.Combine(Cluster.DataDir, "started")))
        {
            Cluster.StartAll();
            await File.WriteAllTextAsync(Path.Combine(Cluster.DataDir, "started"), "");
        }
        Cluster.RestartExited();
        await Cluster.HealAllAsync();
        await Cluster.AwaitAsync(Cluster.AllReadyAsync, Ready, "every node answers /health/ready with 200");
    }

    public void Dispose() => Cluster.Dispose();
}
