using Akka.Actor;
using Akka.TestKit.Xunit2;
using DistSysActors.Actors.KeyValue;
using DistSysActors.Actors.Raft;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;
using Xunit.Abstractions;
using static DistSysActors.Actors.KeyValue.KvProtocol;
using static DistSysActors.Actors.Raft.RaftProtocol;
using static DistSysActors.Actors.Tests.Raft.RaftActorCluster;

namespace DistSysActors.Actors.Tests.Raft;

/// <summary>Snapshots, journal truncation, recovery from snapshot + tail, InstallSnapshot to a lagging follower, back pressure.</summary>
[Collection(RaftActorCollection.Name)]
public sealed class RaftSnapshotSpec(ITestOutputHelper output) : TestKit(RaftActorCluster.Config, "raft-snapshot-spec", output)
{
    private const int SnapshotEntries = 20;
    private readonly RaftSettings _settings = RaftSettings.Create(RaftActorCluster.Config) with { SnapshotEntries = SnapshotEntries, CompactionMarginEntries = 0 };

    private void PutAll(IActorRef node, int count, string prefix = "k")
    {
        for (var i = 0; i < count; i++)
        {
            node.Tell(new Put($"{prefix}{i}", $"v{i}"));
            Assert.Equal(KvStatus.Ok, ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5)).Status);
        }
    }

    private void AssertHolds(IActorRef node, int count, string prefix = "k") => AwaitAssert(() =>
    {
        for (var i = 0; i < count; i++)
        {
            node.Tell(new Get($"{prefix}{i}", Consistency.Stale));
            Assert.Equal($"v{i}", ExpectMsg<ReadResult>().Value);
        }
    }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));

    private void Isolate(IActorRef network, NodeId node, bool isolated)
    {
        network.Tell(new LocalRaftNetwork.Isolate(node, isolated), TestActor);
        ExpectMsg<LocalRaftNetwork.Isolate>();
    }

    [Fact]
    public void A_snapshot_past_the_threshold_truncates_the_journal_and_a_restart_recovers_from_snapshot_and_tail()
    {
        var id = new NodeId(11);
        var pid = $"raft-node-{id.Value}";
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var node = Start(this, network, id, [id], _settings, "solo-1");
        AwaitLeader(this, new Dictionary<NodeId, IActorRef> { [id] = node });
        PutAll(node, 50);

        NodeStatus before = null!;
        AwaitAssert(() =>
        {
            before = StatusOf(node);
            Assert.True(before.Raft.SnapshotIndex >= 50 - SnapshotEntries, $"snapshot at {before.Raft.SnapshotIndex}");
            Assert.False(before.SnapshotSaving);
            Assert.Equal(before.Raft.SnapshotIndex + 1, before.FirstLogIndex);
            Assert.True(GatedMemoryJournal.DeletedTo(pid) > 0, "the journal was not truncated");
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        Assert.True(before.Raft.LastLogIndex - before.Raft.SnapshotIndex <= SnapshotEntries, "more entries held after the snapshot than the threshold");
        Stop(this, node);

        var restarted = Start(this, network, id, [id], _settings, "solo-2");
        var recovered = StatusOf(restarted);
        Assert.Equal(before.Raft.SnapshotIndex, recovered.Raft.SnapshotIndex);
        Assert.True(recovered.Raft.LastLogIndex >= before.Raft.LastLogIndex, "log entries after the snapshot were lost");
        // Only the events after the snapshot are replayed: two per Ready at most (term/commit, entries).
        Assert.InRange(GatedMemoryJournal.Replayed(pid), 0, 2 * (before.Raft.LastLogIndex - before.Raft.SnapshotIndex) + 2);
        AssertHolds(restarted, 50);
        AwaitAssert(() => Assert.True(StatusOf(restarted).Raft.AppliedIndex >= before.Raft.AppliedIndex), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_follower_far_behind_catches_up_through_an_installed_snapshot_and_keeps_it_across_a_restart()
    {
        NodeId[] voters = [new(21), new(22), new(23)];
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var nodes = voters.ToDictionary(v => v, v => Start(this, network, v, voters, _settings, $"raft-{v}-1"));
        var lagging = voters[2];
        Isolate(network, lagging, true);
        var others = nodes.Where(n => n.Key != lagging).ToDictionary(n => n.Key, n => n.Value);
        var leader = AwaitLeader(this, others);
        PutAll(nodes[leader], 60);
        AwaitAssert(() => Assert.True(StatusOf(nodes[leader]).Raft.SnapshotIndex > StatusOf(nodes[lagging]).Raft.LastLogIndex + 1),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));

        Isolate(network, lagging, false);
        AssertHolds(nodes[lagging], 60);
        var caughtUp = StatusOf(nodes[lagging]);
        Assert.True(caughtUp.Raft.SnapshotIndex > 0, "the follower caught up without a snapshot");

        // Cut off from the leader, the restarted follower still has what the installed snapshot held.
        Isolate(network, lagging, true);
        Stop(this, nodes[lagging]);
        var restarted = Start(this, network, lagging, voters, _settings, $"raft-{lagging}-2");
        Assert.Equal(caughtUp.Raft.SnapshotIndex, StatusOf(restarted).Raft.SnapshotIndex);
        AssertHolds(restarted, 10);
    }

    [Fact]
    public void An_installed_snapshot_is_acknowledged_only_once_it_is_durable()
    {
        NodeId[] voters = [new(71), new(72), new(73)];
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var nodes = voters.ToDictionary(v => v, v => Start(this, network, v, voters, _settings, $"raft-{v}"));
        var lagging = voters[2];
        Isolate(network, lagging, true);
        var leader = AwaitLeader(this, nodes.Where(n => n.Key != lagging).ToDictionary(n => n.Key, n => n.Value));
        PutAll(nodes[leader], 30);
        long snapshotIndex = 0;
        AwaitAssert(() =>
        {
            snapshotIndex = StatusOf(nodes[leader]).Raft.SnapshotIndex;
            Assert.True(snapshotIndex > StatusOf(nodes[lagging]).Raft.LastLogIndex + 1);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));

        GatedMemorySnapshotStore.Close();
        try
        {
            Isolate(network, lagging, false);
            AwaitAssert(() => Assert.True(StatusOf(nodes[lagging]).SnapshotSaving), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
            // The save is in flight: the follower has neither acknowledged the snapshot nor applied it.
            nodes[leader].Tell(GetMembers.Instance);
            var view = ExpectMsg<Members>().Servers.Single(s => s.NodeId == lagging.Value);
            Assert.True(view.MatchIndex < snapshotIndex, $"the leader saw match {view.MatchIndex} before the snapshot at {snapshotIndex} was durable");
            Assert.True(StatusOf(nodes[lagging]).Raft.AppliedIndex < snapshotIndex);
        }
        finally
        {
            GatedMemorySnapshotStore.Release();
        }
        AssertHolds(nodes[lagging], 30);
    }

    [Fact]
    public void Proposals_beyond_the_uncommitted_entry_limit_answer_overloaded_and_none_is_lost()
    {
        var id = new NodeId(41);
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var node = Start(this, network, id, [id], _settings with { UncommittedEntriesMax = 3 }, "solo-overload");
        AwaitLeader(this, new Dictionary<NodeId, IActorRef> { [id] = node });
        AwaitAssert(() => Assert.Equal(StatusOf(node).Raft.LastLogIndex, StatusOf(node).Raft.CommitIndex), TimeSpan.FromSeconds(5));

        var probes = Enumerable.Range(0, 8).Select(_ => CreateTestProbe()).ToList();
        GatedMemoryJournal.Close(); // nothing becomes durable, so nothing commits
        try
        {
            for (var i = 0; i < probes.Count; i++) node.Tell(new Put($"p{i}", "v"), probes[i].Ref);
            var refused = probes.Skip(3).Select(p => p.ExpectMsg<KvProtocol.Unavailable>(TimeSpan.FromSeconds(5))).ToList();
            Assert.All(refused, u => Assert.False(u.Unknown));
            Assert.All(refused, u => Assert.StartsWith("overloaded", u.Reason));
        }
        finally
        {
            GatedMemoryJournal.Release();
        }
        foreach (var p in probes.Take(3)) Assert.Equal(KvStatus.Ok, p.ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5)).Status);
    }

    [Fact]
    public void Requests_beyond_the_pending_request_limit_answer_overloaded_at_once()
    {
        var id = new NodeId(42);
        var network = Sys.ActorOf(LocalRaftNetwork.Props());
        var node = Start(this, network, id, [id], _settings with { Kv = _settings.Kv with { PendingRequestsMax = 2 } }, "solo-pending");
        AwaitLeader(this, new Dictionary<NodeId, IActorRef> { [id] = node });
        var probes = Enumerable.Range(0, 4).Select(_ => CreateTestProbe()).ToList();
        GatedMemoryJournal.Close();
        try
        {
            for (var i = 0; i < probes.Count; i++) node.Tell(new Put($"q{i}", "v"), probes[i].Ref);
            foreach (var p in probes.Skip(2))
            {
                var refused = p.ExpectMsg<KvProtocol.Unavailable>(TimeSpan.FromSeconds(5));
                Assert.Equal((false, true), (refused.Unknown, refused.Reason.StartsWith("overloaded", StringComparison.Ordinal)));
            }
        }
        finally
        {
            GatedMemoryJournal.Release();
        }
        foreach (var p in probes.Take(2)) Assert.Equal(KvStatus.Ok, p.ExpectMsg<WriteResult>(TimeSpan.FromSeconds(5)).Status);
    }
}
