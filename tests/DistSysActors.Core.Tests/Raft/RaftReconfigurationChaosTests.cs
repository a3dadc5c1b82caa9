using DistSysActors.Core.Raft;
using static DistSysActors.Core.Tests.Raft.RaftTestCluster;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>
/// Seeded runs mixing message loss, single-node partitions, crashes, compaction, membership changes and transfers; after every round the
/// applied logs of all nodes must agree (State Machine Safety), and after healing the cluster must make progress.
/// </summary>
public sealed class RaftReconfigurationChaosTests
{
    private const int ElectionTicks = 10;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void AppliedLogsAgreeUnderLossCrashesCompactionAndReconfiguration(int seed)
    {
        var random = new Random(seed);
        var cluster = new RaftTestCluster(3, seed, c => c with { SnapshotChunkBytes = 48 });
        cluster.AddJoiningNode(4);
        cluster.AddJoiningNode(5);
        var dropRate = 0.0;
        cluster.Deliverable = _ => random.NextDouble() >= dropRate;
        var committed = new Dictionary<long, LogEntry>();
        var seq = 0L;

        for (var round = 0; round < 400; round++)
        {
            dropRate = round < 300 ? 0.3 : 0.0;
            if (round % 37 == 0)
            {
                cluster.Isolated.Clear();
                if (round < 300 && random.Next(2) == 0) cluster.Isolated.Add(N(random.Next(1, 6)));
            }
            var leader = cluster.Nodes.Values.Where(n => n.Role == RaftRole.Leader).MaxBy(n => n.Term);
            var action = random.Next(20);
            var id = random.Next(1, 6);
            switch (action)
            {
                case < 8 when leader is not null:
                    cluster.Put(leader.Id.Value, 1, ++seq, "k" + random.Next(5), "v" + seq);
                    break;
                case 8 or 9:
                    if (cluster[id].AppliedIndex > cluster[id].FirstLogIndex) cluster.TakeSnapshot(id);
                    break;
                case 10 when round < 300:
                    cluster.Restart(id);
                    break;
                case 11 when leader is not null:
                    // Keep two or more voters most of the time so that losses and crashes still matter.
                    var change = leader.Membership.Contains(N(id)) && leader.Membership.Voters.Length > 2
                        || leader.Membership.IsLearner(N(id))
                        ? new ConfChange(ConfChangeType.RemoveNode, N(id))
                        : new ConfChange(ConfChangeType.AddLearner, N(id));
                    leader.ProposeConfChange(change);
                    cluster.Stabilize();
                    break;
                case 12 when leader is not null:
                    leader.TransferLeadership(N(id));
                    cluster.Stabilize();
                    break;
                default:
                    cluster.TickAll(1);
                    break;
            }
            CheckAgreement(cluster, committed, seed, round);
        }

        dropRate = 0;
        cluster.Isolated.Clear();
        cluster.TickAll(10 * ElectionTicks);
        var final = cluster.Nodes.Values.Where(n => n.Role == RaftRole.Leader).MaxBy(n => n.Term);
        Assert.True(final is not null, $"seed {seed}: no leader after healing: {string.Join(" | ", cluster.Nodes.Values)}");
        var result = cluster.Put(final.Id.Value, 2, 1, "final", "x");
        Assert.True(result.Status == ProposeStatus.Appended, $"seed {seed}: {result}");
        cluster.TickAll(3);
        foreach (var member in final.Membership.All)
            Assert.True(cluster.Nodes[member].AppliedIndex >= result.Index, $"seed {seed}: {cluster.Nodes[member]} did not apply {result.Index}");
        CheckAgreement(cluster, committed, seed, -1);
    }

    private static void CheckAgreement(RaftTestCluster cluster, Dictionary<long, LogEntry> committed, int seed, int round)
    {
        foreach (var (id, applied) in cluster.Applied)
        {
            for (var i = 0; i < applied.Count; i++)
            {
                var e = applied[i];
                Assert.True(e.Index == i + 1, $"seed {seed} round {round}: node {id} applied {e} at position {i}");
                if (!committed.TryAdd(e.Index, e))
                    Assert.True(committed[e.Index].Equals(e), $"seed {seed} round {round}: node {id} applied {e}, another node {committed[e.Index]}");
            }
        }
        var leaders = cluster.Nodes.Values.Where(n => n.Role == RaftRole.Leader).GroupBy(n => n.Term);
        Assert.All(leaders, g => Assert.True(g.Count() == 1, $"seed {seed} round {round}: two leaders in term {g.Key}"));
    }
}
