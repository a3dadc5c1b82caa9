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

    /// <summary>Pings go out every second (distsys.ping.interval-ms); a pong older than this means a link is down.</summary>
    private const long FreshPongMs = 2_000;

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
        // Ready is each node's own view; a node healed from a partition can still be about to be downed and rejoin, or
        // campaign once more, and Akka.Cluster marks a dead link unreachable only after its failure detector's pause.
        // Settled: every node sees all three Up and reachable, has had a pong from each peer within the last 2 s (both
        // directions of every link work now), and names the same Raft leader.
        await Cluster.AwaitAsync(SettledAsync, Ready, "every node sees all three Up and reachable, has fresh pongs from both peers, under one Raft leader");
    }

    private async Task<bool> SettledAsync()
    {
        var leaders = new HashSet<int?>();
        for (var i = 1; i <= Cluster.Nodes; i++)
        {
            using var c = Cluster.Client(i);
            var status = await c.StatusAsync();
            if (status.SelfStatus != "Up" || status.Members.Count(m => m.Status == "Up" && m.Reachable) != Cluster.Nodes || status.Members.Count != Cluster.Nodes)
                return false;
            if (status.Ping.Count(p => p.NodeId != i && p.LastPongAgeMs is < FreshPongMs) != Cluster.Nodes - 1) return false;
            leaders.Add(status.Raft?.LeaderId);
        }
        return leaders.Count == 1 && leaders.Single() is not null;
    }

    public void Dispose() => Cluster.Dispose();
}
