using System.Collections.Immutable;
using DistSysActors.Core.Raft;
using static DistSysActors.Core.Tests.Raft.RaftTestCluster;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>Log compaction and InstallSnapshot (Raft paper section 7, Figure 13).</summary>
public sealed class RaftSnapshotTests
{
    private const int ElectionTicks = 10;
    private static readonly Membership Three = new([N(1), N(2), N(3)], []);

    private static RaftNode Follower(Func<RaftConfig, RaftConfig>? configure = null)
    {
        var config = new RaftConfig { Id = N(2), Voters = [N(1), N(2), N(3)] };
        return new RaftNode(configure is null ? config : configure(config), new DeterministicRandom(7));
    }

    private static Ready Drain(RaftNode node)
    {
        var ready = node.TakeReady();
        node.Advance(ready);
        return ready;
    }

    /// <summary>Every Ready the node has now, taken and advanced in turn, merged (committed entries come in a Ready of their own when a write is pending too).</summary>
    private static Ready DrainAll(RaftNode node)
    {
        var all = new List<Ready>();
        while (node.HasReady) all.Add(Drain(node));
        return new Ready(all.LastOrDefault(r => r.HardState is not null)?.HardState, [.. all.SelectMany(r => r.Entries)],
            [.. all.SelectMany(r => r.MessagesBeforePersist)], [.. all.SelectMany(r => r.Messages)], [.. all.SelectMany(r => r.CommittedEntries)],
            [.. all.SelectMany(r => r.ReadStates)], [.. all.SelectMany(r => r.ReadsDropped)], all.LastOrDefault(r => r.Snapshot is not null)?.Snapshot);
    }

    private static InstallSnapshot Chunk(SnapshotMeta meta, byte[] data, int offset, int length, long term = 1) =>
        new(N(1), N(2), term, meta, offset, data[offset..(offset + length)], offset + length == data.Length);

    private static void PutMany(RaftTestCluster cluster, int count, int from = 0)
    {
        for (var i = from; i < from + count; i++) cluster.Put(1, 1, i + 1, "k" + i, new string('v', 20));
    }

    [Fact]
    public void Figure13_FollowerInstallsChunkedSnapshotAndAnswersAfterPersist()
    {
        var node = Follower();
        var data = Enumerable.Range(0, 40).Select(i => (byte)i).ToArray();
        var meta = new SnapshotMeta(12, 1, Three);

        node.Step(Chunk(meta, data, 0, 16));
        var first = Drain(node);
        Assert.Null(first.Snapshot);
        // A non-final chunk's answer promises nothing durable: it leaves without waiting for a write.
        Assert.Equal(new InstallSnapshotResponse(N(2), N(1), 1, 12, 16, false), Assert.Single(first.MessagesBeforePersist));
        Assert.Empty(first.Messages);

        node.Step(Chunk(meta, data, 16, 16));
        Assert.Equal(32, Assert.IsType<InstallSnapshotResponse>(Assert.Single(Drain(node).MessagesBeforePersist)).NextOffset);

        node.Step(Chunk(meta, data, 32, 8));
        Assert.Equal(12, node.CommitIndex);
        var last = node.TakeReady();
        Assert.Equal(data, last.Snapshot!.Data);
        Assert.Equal(meta, last.Snapshot.Meta);
        Assert.True(last.MustSync);
        // The Done answer promises the snapshot is durable, so it waits for step 2 like an append acknowledgement.
        Assert.Empty(last.MessagesBeforePersist);
        Assert.Equal(new InstallSnapshotResponse(N(2), N(1), 1, 12, 40, true), Assert.Single(last.Messages));
        Assert.Empty(last.CommittedEntries); // the snapshot replaces the state machine through 12
        node.Advance(last);
        Assert.Equal(12, node.AppliedIndex);
        Assert.Equal(13, node.FirstLogIndex);
        Assert.Equal(12, node.LastLogIndex);
        Assert.Equal(meta, node.Snapshot!.Meta);
    }

    [Fact]
    public void Figure13_ChunkAtWrongOffsetIsAnsweredWithTheOffsetExpectedAndOtherSnapshotRestartsFromZero()
    {
        var node = Follower();
        var data = new byte[48];
        var meta = new SnapshotMeta(12, 1, Three);
        node.Step(Chunk(meta, data, 0, 16));
        Drain(node);

        node.Step(Chunk(meta, data, 32, 16)); // the chunk at 16 was lost
        Assert.Equal(new InstallSnapshotResponse(N(2), N(1), 1, 12, 16, false), Assert.Single(Drain(node).MessagesBeforePersist));

        var other = new SnapshotMeta(20, 1, Three);
        node.Step(Chunk(other, data, 16, 16)); // a chunk of a snapshot this node has not started
        Assert.Equal(new InstallSnapshotResponse(N(2), N(1), 1, 20, 0, false), Assert.Single(Drain(node).MessagesBeforePersist));
        Assert.Equal(0, node.CommitIndex);
    }

    [Fact]
    public void Figure13_SnapshotLargerThanTheLimitIsRefused()
    {
        var node = Follower(c => c with { SnapshotBytesMax = 20 });
        var data = new byte[32];
        var meta = new SnapshotMeta(12, 1, Three);
        node.Step(Chunk(meta, data, 0, 16));
        Drain(node);
        node.Step(Chunk(meta, data, 16, 16));
        Assert.Equal(0, Assert.IsType<InstallSnapshotResponse>(Assert.Single(Drain(node).MessagesBeforePersist)).NextOffset);
        Assert.Null(node.Snapshot);
    }

    [Fact]
    public void Figure13_StaleSnapshotIsAnsweredDoneAndIgnored()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        PutMany(cluster, 5);
        var follower = cluster[2];
        var commit = follower.CommitIndex;
        var log = follower.Log.ToList();

        follower.Step(new InstallSnapshot(N(1), N(2), follower.Term, new SnapshotMeta(3, follower.Term, Three), 0, [1, 2, 3], true));
        var ready = follower.TakeReady();
        follower.Advance(ready);

        Assert.Null(ready.Snapshot);
        Assert.True(Assert.IsType<InstallSnapshotResponse>(Assert.Single(ready.Messages)).Done);
        Assert.Equal(commit, follower.CommitIndex);
        Assert.Equal(log, follower.Log);
        Assert.Null(follower.Snapshot);
    }

    /// <summary>
    /// etcd's restore() rule: a follower whose log holds the snapshot's index and term only commits through it. Handing
    /// the snapshot out would make the host replace its stored log by it (dropping 4 and 5, which this node acknowledged)
    /// and write 4 and 5 again afterwards: a crash in between leaves a log ending at 3.
    /// </summary>
    [Fact]
    public void Figure13_FollowerWhoseLogHoldsTheSnapshotOnlyCommitsThroughIt()
    {
        var node = Follower();
        var entries = Enumerable.Range(1, 5).Select(i => new LogEntry(i, 1, EntryType.Normal, [(byte)i])).ToImmutableArray();
        node.Step(new AppendEntries(N(1), N(2), 1, 0, 0, entries, 0));
        var acked = Drain(node);
        Assert.Equal(5, Assert.IsType<AppendEntriesResponse>(Assert.Single(acked.Messages)).MatchIndex);

        node.Step(new InstallSnapshot(N(1), N(2), 1, new SnapshotMeta(3, 1, Three), 0, [9], true));
        var ready = DrainAll(node);

        Assert.Null(ready.Snapshot); // no snapshot write: the stored log stays as it is
        Assert.Empty(ready.Entries);
        Assert.Equal(3, ready.HardState!.Commit);
        Assert.Equal([1L, 2L, 3L], ready.CommittedEntries.Select(e => e.Index)); // applied from the log
        Assert.Equal(new InstallSnapshotResponse(N(2), N(1), 1, 3, 0, true), Assert.Single(ready.Messages));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], node.Log.Select(e => e.Index));
        Assert.Null(node.Snapshot);
        Assert.Equal(3, node.CommitIndex);
        Assert.Equal(5, node.Status.StableIndex);
    }

    [Fact]
    public void Figure13_ASnapshotOfEntriesStillBeingWrittenOnlyCommitsThroughThem()
    {
        var node = Follower();
        var entries = Enumerable.Range(1, 5).Select(i => new LogEntry(i, 1, EntryType.Normal, [(byte)i])).ToImmutableArray();
        node.Step(new AppendEntries(N(1), N(2), 1, 0, 0, entries, 0));
        var writing = node.TakeReady(); // entries 1..5 on their way to disk

        node.Step(new InstallSnapshot(N(1), N(2), 1, new SnapshotMeta(3, 1, Three), 0, [9], true));
        node.Advance(writing);
        var ready = DrainAll(node);

        Assert.Null(ready.Snapshot);
        Assert.Empty(ready.Entries); // 1..5 were written once and stay
        Assert.Equal(5, node.Status.StableIndex);
        Assert.Equal(3, node.CommitIndex);
        Assert.True(Assert.IsType<InstallSnapshotResponse>(Assert.Single(ready.Messages)).Done);
    }

    [Fact]
    public void Figure13_AMatchingSnapshotReceivedInChunksCommitsAtTheFirstChunk()
    {
        var node = Follower();
        var entries = Enumerable.Range(1, 5).Select(i => new LogEntry(i, 1, EntryType.Normal, [(byte)i])).ToImmutableArray();
        node.Step(new AppendEntries(N(1), N(2), 1, 0, 0, entries, 0));
        Drain(node);
        var data = new byte[40];
        var meta = new SnapshotMeta(4, 1, Three);

        node.Step(Chunk(meta, data, 0, 16));
        var ready = DrainAll(node);

        Assert.Null(ready.Snapshot);
        Assert.Equal(new InstallSnapshotResponse(N(2), N(1), 1, 4, 0, true), Assert.Single(ready.Messages));
        Assert.Equal(4, node.CommitIndex);
        Assert.Equal(5, node.LastLogIndex);
    }

    [Fact]
    public void Figure13_FollowerDiscardsItsLogWhenTheSnapshotDoesNotMatch()
    {
        var node = Follower();
        var entries = Enumerable.Range(1, 5).Select(i => new LogEntry(i, 1, EntryType.Normal, [(byte)i])).ToImmutableArray();
        node.Step(new AppendEntries(N(1), N(2), 1, 0, 0, entries, 0));
        Drain(node);

        node.Step(new InstallSnapshot(N(1), N(2), 2, new SnapshotMeta(4, 2, Three), 0, [9], true));
        var ready = Drain(node);

        Assert.Empty(node.Log);
        Assert.Empty(ready.Entries);
        Assert.Equal(4, node.LastLogIndex);
        Assert.Equal(2, node.LastLogTerm);
    }

    [Fact]
    public void A_compaction_margin_lets_a_follower_a_few_entries_behind_catch_up_by_appends_not_by_the_snapshot()
    {
        foreach (var margin in new[] { 0, 10 })
        {
            var cluster = new RaftTestCluster(3, configure: c => c with { CompactionMarginEntries = margin });
            cluster.Elect(1);
            cluster.Isolated.Add(N(3)); // it misses a few entries
            PutMany(cluster, 5);
            cluster.TakeSnapshot(1);
            cluster.Isolated.Clear();
            cluster.TickAll(3);

            var snapshotsToThree = cluster.Sent.OfType<InstallSnapshot>().Count(m => m.To == N(3));
            if (margin == 0) Assert.True(snapshotsToThree > 0, "without a margin the follower needs the snapshot");
            else Assert.Equal(0, snapshotsToThree);
            Assert.Equal(cluster.Applied[N(1)], cluster.Applied[N(3)]);
        }
    }

    [Fact]
    public void Several_snapshot_chunks_are_in_flight_at_once_and_the_follower_assembles_them()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { SnapshotChunkBytes = 100, SnapshotChunksInflightMax = 3 });
        cluster.Elect(1);
        cluster.Isolated.Add(N(3));
        PutMany(cluster, 20);
        var snapshot = cluster.TakeSnapshot(1);
        cluster.Isolated.Clear();
        cluster.TickAll(3);

        Assert.Equal(snapshot.Meta, cluster[3].Snapshot!.Meta);
        Assert.Equal(cluster.Applied[N(1)], cluster.Applied[N(3)]);
        var toThree = cluster.Sent.Where(m => m is InstallSnapshot { To.Value: 3 } or InstallSnapshotResponse { From.Value: 3 }).ToList();
        var run = 0;
        var longestRun = 0;
        foreach (var m in toThree)
        {
            run = m is InstallSnapshot ? run + 1 : 0;
            longestRun = Math.Max(longestRun, run);
        }
        Assert.Equal(3, longestRun); // three chunks sent before the first answer, never more
    }

    [Fact]
    public void Section7_LeaderSendsSnapshotInChunksWhenFollowerNeedsCompactedEntries()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { SnapshotChunkBytes = 100 });
        cluster.Elect(1);
        cluster.Isolated.Add(N(3));
        PutMany(cluster, 20);
        var snapshot = cluster.TakeSnapshot(1);
        PutMany(cluster, 3, from: 20);
        Assert.True(cluster[1].FirstLogIndex > cluster[3].LastLogIndex + 1);

        cluster.Isolated.Clear();
        cluster.TickAll(3);

        var chunks = cluster.Sent.OfType<InstallSnapshot>().Where(m => m.To == N(3)).ToList();
        Assert.True(chunks.Count >= snapshot.Data.Length / 100, $"{chunks.Count} chunks");
        Assert.All(chunks, c => Assert.True(c.Data.Length <= 100));
        Assert.Equal(snapshot.Meta, cluster[3].Snapshot!.Meta);
        Assert.Equal(cluster[1].LastLogIndex, cluster[3].LastLogIndex);
        Assert.Equal(cluster[1].CommitIndex, cluster[3].CommitIndex);
        Assert.Equal(cluster.Applied[N(1)], cluster.Applied[N(3)]);
        // One chunk in flight at a time: the leader never sent a chunk before the previous one was answered.
        var toThree = cluster.Sent.Where(m => m is InstallSnapshot { To.Value: 3 } or InstallSnapshotResponse { From.Value: 3 }).ToList();
        for (var i = 1; i < toThree.Count; i++)
            Assert.False(toThree[i] is InstallSnapshot && toThree[i - 1] is InstallSnapshot, $"two chunks in a row at {i}");
    }

    [Fact]
    public void Section7_LostChunkIsSentAgainAfterATimeout()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { SnapshotChunkBytes = 64 });
        cluster.Elect(1);
        cluster.Isolated.Add(N(3));
        PutMany(cluster, 10);
        cluster.TakeSnapshot(1);
        PutMany(cluster, 1, from: 10);
        var dropped = 0;
        cluster.Deliverable = m =>
        {
            if (m is not InstallSnapshot { Offset: 64 } || dropped > 0) return true;
            dropped++;
            return false;
        };
        cluster.Isolated.Clear();

        cluster.TickAll(3 * ElectionTicks);

        Assert.Equal(1, dropped);
        Assert.Equal(cluster[1].LastLogIndex, cluster[3].LastLogIndex);
        Assert.Equal(cluster.Applied[N(1)], cluster.Applied[N(3)]);
    }

    [Fact]
    public void Section7_FollowerRestartsFromSnapshotTailAndHardState()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        PutMany(cluster, 8);
        var snapshot = cluster.TakeSnapshot(2);
        PutMany(cluster, 4, from: 8);
        cluster.TickAll(2);
        Assert.Equal(snapshot.Meta.Index + 1, cluster[2].FirstLogIndex);

        cluster.Restart(2);

        var node = cluster[2];
        Assert.Equal(snapshot.Meta.Index, node.AppliedIndex);
        Assert.Equal(snapshot.Meta.Index + 1, node.FirstLogIndex);
        Assert.Equal(cluster[1].LastLogIndex, node.LastLogIndex);
        cluster.TickAll(2);
        Assert.Equal(cluster.Applied[N(1)], cluster.Applied[N(2)]);
        PutMany(cluster, 2, from: 12);
        cluster.TickAll(1); // the new commit index reaches followers with the next heartbeat
        Assert.Equal(cluster.Applied[N(1)], cluster.Applied[N(2)]);
    }

    [Fact]
    public void Section7_LeaderRestartedFromItsSnapshotCatchesUpAnEmptyFollowerBySnapshot()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        PutMany(cluster, 6);
        foreach (var id in new[] { 1, 2, 3 }) cluster.TakeSnapshot(id);
        cluster.Storage[N(3)] = new MemoryStorage(); // node 3 lost its disk and comes back empty
        foreach (var id in new[] { 1, 2, 3 }) cluster.Restart(id);

        cluster.TickAll(4 * ElectionTicks);

        var leader = cluster.Nodes.Values.Single(n => n.Role == RaftRole.Leader);
        Assert.NotEqual(N(3), leader.Id); // its empty log cannot win a vote
        Assert.Equal(leader.Snapshot!.Meta, cluster[3].Snapshot!.Meta);
        Assert.Equal(cluster.Applied[leader.Id], cluster.Applied[N(3)]);
        Assert.Equal(leader.LastLogIndex, cluster[3].LastLogIndex);
    }

    [Fact]
    public void Section7_CompactWhileAReadyIsOutstanding()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        PutMany(cluster, 4);
        var leader = cluster[1];
        leader.Propose(Data("x"));
        var ready = leader.TakeReady();
        Assert.NotEmpty(ready.Entries);

        var snapshot = cluster.TakeSnapshot(1); // the host compacts while the disk write is in flight
        foreach (var m in ready.MessagesBeforePersist) cluster.Nodes[m.To].Step(m);
        cluster.Storage[N(1)].Persist(ready);
        leader.Advance(ready);
        cluster.TickAll(2);

        Assert.Equal(snapshot.Meta.Index + 1, leader.FirstLogIndex);
        Assert.Equal(leader.LastLogIndex, leader.Status.StableIndex);
        Assert.Equal(leader.LastLogIndex, leader.CommitIndex);
        Assert.Equal(leader.LastLogIndex, cluster[2].CommitIndex);
    }

    [Fact]
    public void Section7_SnapshotMetaCarriesTheMembershipAtItsIndex()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { AutoPromoteLearners = false });
        cluster.Elect(1);
        cluster.AddJoiningNode(4);
        Assert.Equal(ProposeStatus.Appended, cluster[1].ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, N(4))).Status);
        cluster.Stabilize();
        PutMany(cluster, 2);

        var snapshot = cluster.TakeSnapshot(1);

        Assert.Equal(new Membership([N(1), N(2), N(3)], [N(4)]), snapshot.Meta.Membership);
        cluster.Restart(1);
        Assert.Equal(snapshot.Meta.Membership, cluster[1].Membership);
    }
}
