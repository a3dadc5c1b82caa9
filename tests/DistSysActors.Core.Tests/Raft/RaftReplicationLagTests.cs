using DistSysActors.Core.Raft;
using static DistSysActors.Core.Tests.Raft.RaftTestCluster;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>
/// Replication lag as a leader measures it (PostgreSQL's pg_stat_replication: write lag and replay lag), each node's own
/// apply lag, and the delayed apply (recovery_min_apply_delay) that makes a follower lag on purpose.
/// </summary>
public sealed class RaftReplicationLagTests
{
    /// <summary>Every node ticks at <paramref name="nowMs"/> on its monotonic clock, then the cluster settles.</summary>
    private static void At(RaftTestCluster cluster, long nowMs)
    {
        foreach (var (id, node) in cluster.Nodes)
            if (!cluster.Down.Contains(id)) node.Tick(nowMs);
        cluster.Stabilize();
    }

    /// <summary>Ticks every tick-ms from <paramref name="fromMs"/> through <paramref name="toMs"/> (heartbeats keep flowing).</summary>
    private static void Run(RaftTestCluster cluster, long fromMs, long toMs)
    {
        for (var t = fromMs; t <= toMs; t += cluster[1].Config.TickMs) At(cluster, t);
    }

    private static ReplicaLag Of(ReplicationStatus status, int id) => status.Replicas.Single(r => r.Node == N(id));

    [Fact]
    public void A_caught_up_follower_has_zero_write_and_apply_lag_and_reports_its_applied_index_with_heartbeat_answers()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        At(cluster, 1_000);
        var leader = cluster[1];
        leader.Propose(Data("a"), 1_000);
        leader.Propose(Data("b"), 1_000);
        cluster.Stabilize();
        At(cluster, 1_030); // a heartbeat round: the answers carry the followers' applied index

        var status = leader.Replication(1_030);
        Assert.Equal(new[] { N(2), N(3) }, status.Replicas.Select(r => r.Node));
        foreach (var r in status.Replicas)
        {
            Assert.True(r.LinkUp);
            Assert.Equal(leader.LastLogIndex, r.MatchIndex);
            Assert.Equal(leader.LastLogIndex, r.SentIndex);
            Assert.Equal(leader.CommitIndex, r.AppliedIndex);
            Assert.Equal(0, r.WriteLagEntries);
            Assert.Equal(0, r.WriteLagMs);
            Assert.Equal(0, r.ApplyLagEntries);
            Assert.Equal(0, r.ApplyLagMs);
        }
        Assert.Equal(0, status.LagMs);
        Assert.Equal(0, cluster[2].LocalLagMs(1_030));
        Assert.Equal(530, cluster[2].Replication(1_530).AppliedAgoMs); // a and b were applied at 1000, nothing since
        Assert.Empty(cluster[2].Replication(1_030).Replicas); // only a leader has the per-follower view
    }

    [Fact]
    public void A_follower_that_gets_heartbeats_but_no_entries_lags_by_the_missing_entries_and_their_age_on_the_leader()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        At(cluster, 2_000);
        cluster.Deliverable = m => !(m is AppendEntries && m.To == N(3)); // a slow link for entries only
        var leader = cluster[1];
        leader.Propose(Data("x"), 2_000);
        cluster.Stabilize();
        leader.Propose(Data("y"), 2_200);
        cluster.Stabilize();
        Run(cluster, 2_030, 2_510);

        var status = leader.Replication(2_510);
        var slow = Of(status, 3);
        Assert.True(slow.LinkUp); // it answers heartbeats: slow, not down
        Assert.Equal(2, slow.WriteLagEntries);
        Assert.Equal(510, slow.WriteLagMs); // x, the oldest entry it lacks, was appended at 2000
        Assert.Equal(2, slow.ApplyLagEntries);
        Assert.Equal(510, slow.ApplyLagMs);
        var fast = Of(status, 2);
        Assert.Equal((0L, 0L, 0L, 0L), (fast.WriteLagEntries!.Value, fast.WriteLagMs!.Value, fast.ApplyLagEntries!.Value, fast.ApplyLagMs!.Value));
    }

    [Fact]
    public void A_partitioned_follower_has_unknown_lag_never_zero_and_measured_lag_again_once_healed()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        At(cluster, 3_000);
        cluster.Isolated.Add(N(3));
        Run(cluster, 3_030, 3_390); // more than an election timeout (10 ticks of 30 ms) without an answer

        var cut = Of(cluster[1].Replication(3_390), 3);
        Assert.False(cut.LinkUp);
        Assert.Null(cut.WriteLagEntries);
        Assert.Null(cut.WriteLagMs);
        Assert.Null(cut.ApplyLagEntries);
        Assert.Null(cut.ApplyLagMs);
        Assert.True(cut.HeardAgoMs > 300, $"heard {cut.HeardAgoMs} ms ago");
        Assert.True(Of(cluster[1].Replication(3_390), 2).LinkUp);
        Assert.Null(cluster[3].LocalLagMs(3_390)); // it cannot tell how stale it is either

        cluster.Isolated.Clear();
        Run(cluster, 3_420, 3_480);
        var healed = Of(cluster[1].Replication(3_480), 3);
        Assert.True(healed.LinkUp);
        Assert.Equal(0, healed.ApplyLagMs);
        Assert.Equal(0, cluster[3].LocalLagMs(3_480));
    }

    [Fact]
    public void A_follower_with_an_apply_delay_applies_a_commit_only_that_long_after_learning_it_and_reports_the_lag()
    {
        var cluster = new RaftTestCluster(3, configure: c => c.Id == N(3) ? c with { ApplyDelayMs = 200 } : c);
        cluster.Elect(1);
        At(cluster, 1_000);
        var leader = cluster[1];
        var x = leader.Propose(Data("x"), 1_000).Index;
        cluster.Stabilize();
        Assert.Equal(x, cluster[3].CommitIndex); // it knows x is committed ...
        Assert.Equal(x - 1, cluster[3].AppliedIndex); // ... and holds it back
        Assert.Equal(x, cluster[2].AppliedIndex);

        Run(cluster, 1_030, 1_180);
        Assert.Equal(x - 1, cluster[3].AppliedIndex);
        Assert.Equal(180, cluster[3].LocalLagMs(1_180));
        var delayed = Of(leader.Replication(1_180), 3);
        Assert.Equal((1L, 180L), (delayed.ApplyLagEntries!.Value, delayed.ApplyLagMs!.Value));
        Assert.Equal(0, delayed.WriteLagMs); // it holds the entry: the delay is in applying, not in replicating
        Assert.Equal(0, Of(leader.Replication(1_180), 2).ApplyLagMs);

        At(cluster, 1_200);
        Assert.Equal(x, cluster[3].AppliedIndex);
        Assert.Equal("x", System.Text.Encoding.UTF8.GetString(cluster.Applied[N(3)][^1].Data));
    }

    [Fact]
    public void A_leader_ignores_its_apply_delay_so_the_delay_never_slows_the_commit()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { ApplyDelayMs = 10_000 });
        cluster.Elect(1);
        At(cluster, 1_000);
        var x = cluster[1].Propose(Data("x"), 1_000).Index;
        cluster.Stabilize();
        Assert.Equal(x, cluster[1].AppliedIndex);
        Assert.True(cluster[2].AppliedIndex < x, "followers still wait"); // followers still wait
    }

    [Fact]
    public void A_restarted_follower_with_an_apply_delay_applies_what_it_recovered_at_once()
    {
        var cluster = new RaftTestCluster(3, configure: c => c.Id == N(3) ? c with { ApplyDelayMs = 200 } : c);
        cluster.Elect(1);
        At(cluster, 1_000);
        var x = cluster[1].Propose(Data("x"), 1_000).Index;
        cluster.Stabilize();
        Run(cluster, 1_030, 1_060); // x's commit reaches node 3's disk with its next write
        cluster[1].Propose(Data("y"), 1_060);
        cluster.Stabilize();
        Assert.True(cluster.Storage[N(3)].HardState.Commit >= x);

        cluster.Restart(3);
        At(cluster, 1_090);
        Assert.True(cluster[3].AppliedIndex >= x, $"applied {cluster[3].AppliedIndex}, recovered commit {cluster.Storage[N(3)].HardState.Commit}");
    }

    [Fact]
    public void A_learner_is_an_asynchronous_read_replica_listed_with_its_lag_that_never_holds_back_the_commit()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { AutoPromoteLearners = false });
        cluster.Elect(1);
        var learner = cluster.AddJoiningNode(4);
        Assert.Equal(ProposeStatus.Appended, cluster[1].ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, N(4))).Status);
        cluster.Stabilize();
        Run(cluster, 1_000, 1_030); // the second round's answers report what the first round's commit notice let it apply
        cluster.Isolated.Add(N(4));
        var x = cluster[1].Propose(Data("x"), 1_030).Index;
        cluster.Stabilize();
        Assert.Equal(x, cluster[1].CommitIndex); // committed by the voters alone
        Run(cluster, 1_060, 1_210);

        var status = cluster[1].Replication(1_210);
        var replica = Of(status, 4);
        Assert.False(replica.Voter);
        Assert.True(replica.LinkUp); // within an election timeout of its last answer
        Assert.Equal((1L, 180L), (replica.ApplyLagEntries!.Value, replica.ApplyLagMs!.Value));
        Assert.True(Of(status, 2).Voter);
        Assert.Equal(x - 1, learner.AppliedIndex);
    }

    [Fact]
    public void IndexTimeline_answers_when_a_position_was_first_reached_and_keeps_a_floor_once_full()
    {
        var timeline = new IndexTimeline(capacity: 3);
        timeline.Reset(5, 100);
        Assert.Equal(100, timeline.ReachedAtMs(3)); // covered by the floor
        Assert.Null(timeline.ReachedAtMs(6));
        timeline.Record(7, 200);
        timeline.Record(9, 200); // same reading: one sample, raised
        timeline.Record(8, 250); // went back: ignored
        timeline.Record(12, 300);
        Assert.Equal(200, timeline.ReachedAtMs(6));
        Assert.Equal(200, timeline.ReachedAtMs(9));
        Assert.Equal(300, timeline.ReachedAtMs(10));
        Assert.Null(timeline.ReachedAtMs(13));
        Assert.Equal(0, timeline.ReachedBy(99));
        Assert.Equal(5, timeline.ReachedBy(150));
        Assert.Equal(9, timeline.ReachedBy(299));
        Assert.Equal(12, timeline.Latest);

        timeline.Record(13, 400);
        timeline.Record(14, 500); // the ring holds 3: the sample (9, 200) becomes the floor
        Assert.Equal(200, timeline.ReachedAtMs(1));
        Assert.Equal(200, timeline.ReachedAtMs(9));
        Assert.Equal(300, timeline.ReachedAtMs(11));
        Assert.Equal(9, timeline.ReachedBy(250));
        Assert.Equal(14, timeline.ReachedBy(10_000));
    }
}
