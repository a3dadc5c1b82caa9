using DistSysActors.Core.Raft;
using static DistSysActors.Core.Tests.Raft.RaftTestCluster;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>Single-server membership changes (Raft dissertation 4.1-4.2).</summary>
public sealed class RaftMembershipTests
{
    private const int ElectionTicks = 10;

    private static ConfChange AddLearner(int id) => new(ConfChangeType.AddLearner, N(id));
    private static ConfChange Promote(int id) => new(ConfChangeType.PromoteLearner, N(id));
    private static ConfChange Remove(int id) => new(ConfChangeType.RemoveNode, N(id));

    private static void PutMany(RaftTestCluster cluster, int count, int via = 1, int from = 0)
    {
        for (var i = from; i < from + count; i++) cluster.Put(via, 1, i + 1, "k" + i, "v");
    }

    [Fact]
    public void Dissertation4_1_ConfChangeRefusedBeforeTheLeaderCommitsAnEntryOfItsTerm()
    {
        var cluster = new RaftTestCluster(1);
        cluster[1].Campaign(); // leader at once; its no-op commits only once persisted
        Assert.Equal(RaftRole.Leader, cluster[1].Role);

        var early = cluster[1].ProposeConfChange(AddLearner(2));
        cluster.Stabilize();
        var later = cluster[1].ProposeConfChange(AddLearner(2));

        Assert.Equal(ProposeStatus.Dropped, early.Status);
        Assert.Contains("committed", early.Reason);
        Assert.Equal(ProposeStatus.Appended, later.Status);
    }

    [Fact]
    public void Dissertation4_1_SecondConfChangeRefusedWhileTheFirstIsUncommitted()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Isolated.Add(N(2));
        cluster.Isolated.Add(N(3));

        var first = cluster[1].ProposeConfChange(AddLearner(4));
        var second = cluster[1].ProposeConfChange(AddLearner(5));
        cluster.Isolated.Clear();
        cluster.TickAll(2);
        var third = cluster[1].ProposeConfChange(AddLearner(5));

        Assert.Equal(ProposeStatus.Appended, first.Status);
        Assert.Equal(ProposeStatus.Dropped, second.Status);
        Assert.Contains("not committed", second.Reason);
        Assert.Equal(ProposeStatus.Appended, third.Status);
    }

    [Fact]
    public void Dissertation4_1_InvalidChangesAndNonLeadersAreRefusedWithAReason()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);

        Assert.Contains("not a learner", cluster[1].ProposeConfChange(Promote(2)).Reason);
        Assert.Contains("already a member", cluster[1].ProposeConfChange(AddLearner(3)).Reason);
        Assert.Contains("not a member", cluster[1].ProposeConfChange(Remove(9)).Reason);
        Assert.Contains("not the leader", cluster[2].ProposeConfChange(AddLearner(4)).Reason);
        Assert.Equal(new Membership([N(1), N(2), N(3)], []), cluster[1].Membership);
    }

    [Fact]
    public void Dissertation4_1_ChangeTakesEffectOnAppendBeforeItCommits()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { AutoPromoteLearners = false });
        cluster.Elect(1);
        cluster.Deliverable = m => m is not AppendEntriesResponse; // nothing commits

        var r = cluster[1].ProposeConfChange(AddLearner(4));
        cluster.Stabilize();

        Assert.True(cluster[2].CommitIndex < r.Index);
        Assert.True(cluster[2].Membership.IsLearner(N(4)));
        Assert.True(cluster[1].Membership.IsLearner(N(4)));
        var added = Assert.Single(cluster[1].Peers, p => p.Node == N(4));
        Assert.False(added.Voter);
        Assert.Equal(r.Index + 1, added.Next); // probing from the leader's last index + 1
    }

    [Fact]
    public void Dissertation4_1_TruncatedConfChangeRollsMembershipBack()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { AutoPromoteLearners = false });
        cluster.Elect(1);
        cluster.Isolated.Add(N(1));
        Assert.Equal(ProposeStatus.Appended, cluster[1].ProposeConfChange(AddLearner(4)).Status);
        Assert.True(cluster[1].Membership.IsLearner(N(4)));

        cluster.TickAll(4 * ElectionTicks); // 2 and 3 elect a new leader; 1 steps down (CheckQuorum)
        var leader = cluster.Nodes.Values.Single(n => n.Role == RaftRole.Leader);
        PutMany(cluster, 2, via: leader.Id.Value);
        cluster.Isolated.Clear();
        cluster.TickAll(3);

        Assert.Equal(leader.LastLogIndex, cluster[1].LastLogIndex);
        Assert.DoesNotContain(cluster[1].Log, e => e.Type == EntryType.ConfChange);
        Assert.Equal(new Membership([N(1), N(2), N(3)], []), cluster[1].Membership);
    }

    [Fact]
    public void Dissertation4_2_1_LearnerNeverCountsTowardTheQuorumNorCampaigns()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { AutoPromoteLearners = false });
        cluster.Elect(1);
        cluster.AddJoiningNode(4);
        cluster[1].ProposeConfChange(AddLearner(4));
        cluster.TickAll(2);
        Assert.Equal(cluster[1].LastLogIndex, cluster[4].LastLogIndex);

        cluster.Isolated.Add(N(2));
        cluster.Isolated.Add(N(3));
        var r = cluster.Put(1, 1, 1, "k", "v");

        Assert.Equal(r.Index, cluster[1].Peers.Single(p => p.Node == N(4)).Match);
        Assert.True(cluster[1].CommitIndex < r.Index); // leader + learner are two of four nodes but one of three voters

        cluster.Isolated.Clear();
        cluster.Isolated.Add(N(4));
        cluster.Tick(4, 5 * ElectionTicks);
        Assert.Equal(RaftRole.Follower, cluster[4].Role);
        Assert.DoesNotContain(cluster.Sent, m => m is RequestVote && m.From == N(4));
    }

    [Fact]
    public void Dissertation4_2_1_VoteOfALearnerIsNotCounted()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { AutoPromoteLearners = false });
        cluster.Elect(1);
        cluster.AddJoiningNode(4);
        cluster[1].ProposeConfChange(AddLearner(4));
        cluster.TickAll(2);
        cluster.Down.Add(N(1));
        cluster.Isolated.Add(N(3));

        cluster.TickAll(6 * ElectionTicks);

        Assert.Contains(cluster.Sent, m => m is RequestVoteResponse { Granted: true } && m.From == N(4) && m.To == N(2));
        Assert.NotEqual(RaftRole.Leader, cluster[2].Role); // its own vote and the learner's are not two of three voters
    }

    [Fact]
    public void Dissertation4_2_1_LearnerIsPromotedByTheLeaderOnceCaughtUp()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        PutMany(cluster, 10);
        cluster.TakeSnapshot(1); // the learner catches up by snapshot, then by entries
        PutMany(cluster, 3, from: 10);
        cluster.AddJoiningNode(4);

        cluster[1].ProposeConfChange(AddLearner(4));
        cluster.TickAll(5);

        var expected = new Membership([N(1), N(2), N(3), N(4)], []);
        Assert.All(cluster.Nodes.Values, n => Assert.Equal(expected, n.Membership));
        Assert.Equal(cluster.Applied[N(1)], cluster.Applied[N(4)]);
        var promote = cluster[1].Log.Single(e => e.Type == EntryType.ConfChange && ConfChange.Decode(e.Data).Type == ConfChangeType.PromoteLearner);
        Assert.True(promote.Index <= cluster[1].CommitIndex);

    }

    [Fact]
    public void Dissertation4_2_1_PromotedNodeAndOldVotersElectALeaderTogether()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.AddJoiningNode(4);
        cluster[1].ProposeConfChange(AddLearner(4));
        cluster.TickAll(5);
        Assert.True(cluster[4].Membership.IsVoter(N(4)));

        cluster.Down.Add(N(1));
        cluster.TickAll(6 * ElectionTicks);

        // Three of four voters are up: a majority exists only if node 4 counts its own vote and the others' correctly.
        var leader = cluster.Nodes.Values.Single(n => n.Role == RaftRole.Leader && !cluster.Down.Contains(n.Id));
        Assert.NotEqual(N(1), leader.Id);
        var r = cluster.Put(leader.Id.Value, 2, 1, "after", "x");
        Assert.Equal(ProposeStatus.Appended, r.Status);
        Assert.True(cluster[4].CommitIndex >= r.Index);
    }

    [Fact]
    public void Dissertation4_2_2_RemovedLeaderKeepsLeadingWithoutCountingItselfThenStepsDown()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Term;
        cluster.Isolated.Add(N(3));

        var r = cluster[1].ProposeConfChange(Remove(1));
        cluster.Stabilize();
        // 1 and 2 hold the entry, but the new voters are {2, 3}: without 3 it cannot commit.
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        Assert.True(cluster[1].CommitIndex < r.Index);

        cluster.Isolated.Clear();
        cluster.TickAll(2);
        Assert.Equal(RaftRole.Follower, cluster[1].Role);
        Assert.True(cluster[2].CommitIndex >= r.Index);

        cluster.TickAll(5 * ElectionTicks);
        var leader = cluster.Nodes.Values.Single(n => n.Role == RaftRole.Leader);
        Assert.NotEqual(N(1), leader.Id);
        Assert.Equal(new Membership([N(2), N(3)], []), leader.Membership);
        Assert.DoesNotContain(cluster.Sent, m => m is RequestVote && m.From == N(1) && m.Term > term);
        Assert.Equal(ProposeStatus.Appended, cluster.Put(leader.Id.Value, 1, 1, "k", "v").Status);
    }

    [Fact]
    public void Dissertation4_2_2_RemovedLeaderHandsOverToTheMostCaughtUpVoter()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);

        cluster[1].ProposeConfChange(Remove(1));
        cluster.Stabilize();

        Assert.Contains(cluster.Sent, m => m is TimeoutNow && m.From == N(1));
        Assert.Contains(cluster.Nodes.Values, n => n.Role == RaftRole.Leader && n.Id != N(1)); // no election timeout needed
    }

    [Fact]
    public void Dissertation4_2_3_RemovedNodeCannotRaiseTheClustersTerm()
    {
        foreach (var preVote in new[] { true, false })
        {
            var cluster = new RaftTestCluster(3, configure: c => c with { PreVote = preVote });
            cluster.Elect(1);
            cluster.Isolated.Add(N(3)); // it never hears of its removal
            cluster[1].ProposeConfChange(Remove(3));
            cluster.TickAll(2);
            Assert.Equal(new Membership([N(1), N(2)], []), cluster[2].Membership);
            var term = cluster[1].Term;

            cluster.Isolated.Clear();
            cluster.TickAll(10 * ElectionTicks);

            Assert.True(cluster.Sent.Any(m => m is RequestVote && m.From == N(3)), "the removed node did campaign");
            Assert.Equal(RaftRole.Leader, cluster[1].Role);
            Assert.Equal(term, cluster[1].Term);
            Assert.Equal(term, cluster[2].Term);
        }
    }

    [Fact]
    public void Dissertation4_2_RemovedFollowerStopsReceivingEntries()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var r = cluster[1].ProposeConfChange(Remove(3));
        cluster.TickAll(2);
        var sentBefore = cluster.Sent.Count(m => m.To == N(3));

        PutMany(cluster, 3);
        cluster.TickAll(3);

        Assert.Equal(sentBefore, cluster.Sent.Count(m => m.To == N(3)));
        Assert.DoesNotContain(cluster[1].Peers, p => p.Node == N(3));
        Assert.True(cluster[1].CommitIndex > r.Index); // committed by {1, 2} alone
    }

    [Fact]
    public void ConfChangeEntryCarriesTheWholeMembership()
    {
        var after = new Membership([N(1), N(2)], [N(5)]);
        var data = new ConfChange(ConfChangeType.AddLearner, N(5)).EncodeEntry(after);
        Assert.Equal(new ConfChange(ConfChangeType.AddLearner, N(5)), ConfChange.Decode(data));
        Assert.Equal(after, ConfChange.DecodeMembership(data));
        Assert.Null(ConfChange.DecodeMembership(new ConfChange(ConfChangeType.RemoveNode, N(2)).Encode()));
        Assert.Throws<FormatException>(() => ConfChange.DecodeMembership(data[..^1]));
    }
}
