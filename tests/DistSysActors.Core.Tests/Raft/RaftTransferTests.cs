using DistSysActors.Core.Raft;
using static DistSysActors.Core.Tests.Raft.RaftTestCluster;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>Leadership transfer (Raft dissertation 3.10).</summary>
public sealed class RaftTransferTests
{
    private const int ElectionTicks = 10;

    [Fact]
    public void Dissertation3_10_TransferToCaughtUpFollowerSendsTimeoutNowAtOnce()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Term;

        Assert.True(cluster[1].TransferLeadership(N(2)));
        Assert.Equal(N(2), cluster[1].TransferTarget);
        var ready = cluster[1].TakeReady();
        Assert.Contains(new TimeoutNow(N(1), N(2), term), ready.AllMessages);
        cluster[1].Advance(ready);
        foreach (var m in ready.AllMessages) cluster.Nodes[m.To].Step(m);
        cluster.Stabilize();

        Assert.Equal(RaftRole.Leader, cluster[2].Role);
        Assert.Equal(term + 1, cluster[2].Term);
        Assert.Equal(RaftRole.Follower, cluster[1].Role);
        Assert.Null(cluster[1].TransferTarget);
        Assert.Equal(N(2), cluster[3].LeaderId);
        // The target skipped PreVote and flagged its election.
        Assert.All(cluster.Sent.OfType<RequestVote>().Where(v => v.From == N(2)), v => Assert.True(v.Transfer && !v.PreVote));
    }

    [Fact]
    public void Dissertation3_10_TransferToLaggingFollowerWaitsUntilItCaughtUp()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Isolated.Add(N(3));
        for (var i = 0; i < 5; i++) cluster.Put(1, 1, i + 1, "k", "v" + i);

        Assert.True(cluster[1].TransferLeadership(N(3)));
        cluster.Stabilize();
        Assert.DoesNotContain(cluster.Sent, m => m is TimeoutNow);

        cluster.Isolated.Clear();
        cluster.TickAll(2);

        var timeoutNow = cluster.Sent.FindIndex(m => m is TimeoutNow { To.Value: 3 });
        Assert.True(timeoutNow >= 0);
        // It went out only after node 3 had acknowledged the leader's last entry.
        var lastIndex = cluster[3].Log.Where(e => e.Term < cluster[3].Term).Max(e => e.Index);
        Assert.Contains(cluster.Sent.Take(timeoutNow), m => m is AppendEntriesResponse { From.Value: 3, Success: true } r && r.MatchIndex == lastIndex);
        Assert.Equal(RaftRole.Leader, cluster[3].Role);
        Assert.Equal(cluster[1].Log.Count, cluster[3].Log.Count);
    }

    [Fact]
    public void Dissertation3_10_ProposalsAreDroppedWhileTransferring()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Isolated.Add(N(3));
        cluster.Put(1, 1, 1, "k", "v");
        Assert.True(cluster[1].TransferLeadership(N(3)));

        var put = cluster[1].Propose(Data("x"));
        var change = cluster[1].ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, N(2)));

        Assert.Equal(ProposeStatus.Dropped, put.Status);
        Assert.Contains("transfer", put.Reason);
        Assert.Equal(ProposeStatus.Dropped, change.Status);
        Assert.False(cluster[1].HasLease); // it may already have told the target to take over
    }

    [Fact]
    public void Dissertation3_10_TransferIsAbandonedAfterTheTimeout()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { TransferTimeoutElections = 2 });
        cluster.Elect(1);
        cluster.Isolated.Add(N(3));
        cluster.Put(1, 1, 1, "k", "v");
        Assert.True(cluster[1].TransferLeadership(N(3)));

        cluster.TickAll(2 * ElectionTicks - 1);
        Assert.Equal(N(3), cluster[1].TransferTarget);
        Assert.Equal(ProposeStatus.Dropped, cluster[1].Propose(Data("x")).Status);
        cluster.TickAll(1);

        Assert.Null(cluster[1].TransferTarget);
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        Assert.Equal(ProposeStatus.Appended, cluster[1].Propose(Data("y")).Status);
    }

    [Fact]
    public void Dissertation3_10_LeaderThatSentTimeoutNowHoldsNoLeaseForTheRestOfItsTerm()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.TickAll(2);
        Assert.True(cluster[1].HasLease);
        cluster.Deliverable = m => m is not TimeoutNow; // delayed forever, as far as this term can tell

        Assert.True(cluster[1].TransferLeadership(N(2)));
        cluster.TickAll(ElectionTicks + 2);

        Assert.Null(cluster[1].TransferTarget);
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        Assert.False(cluster[1].HasLease); // a late TimeoutNow could still elect node 2 past the voters' leases
        cluster[1].ReadIndex(7, ReadMode.Lease);
        cluster.Stabilize();
        Assert.Contains(cluster.Reads[N(1)], r => r.RequestId == 7); // served by a heartbeat round instead
    }

    [Fact]
    public void Dissertation3_10_TransferVoteIsGrantedDespiteTheLease()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Term;
        var voter = cluster[2];

        voter.Step(new RequestVote(N(3), N(2), term + 1, cluster[3].LastLogIndex, cluster[3].LastLogTerm, false));
        Assert.Equal(term, voter.Term); // an ordinary vote request is ignored while the leader is alive (4.2.3)

        voter.Step(new RequestVote(N(3), N(2), term + 1, cluster[3].LastLogIndex, cluster[3].LastLogTerm, false, Transfer: true));
        Assert.Equal(term + 1, voter.Term);
        Assert.Equal(N(3), voter.VotedFor);
    }

    [Fact]
    public void Dissertation3_10_TimeoutNowOnlyFromTheCurrentLeaderStartsAnElection()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Term;

        cluster[2].Step(new TimeoutNow(N(3), N(2), term)); // not its leader
        cluster[2].Step(new TimeoutNow(N(1), N(2), term - 1)); // an old term
        Assert.Equal(RaftRole.Follower, cluster[2].Role);
        Assert.Equal(term, cluster[2].Term);
    }

    [Fact]
    public void Dissertation3_10_TransferNeedsALeaderAndAnotherVoter()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { AutoPromoteLearners = false });
        cluster.Elect(1);
        cluster.AddJoiningNode(4);
        cluster[1].ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, N(4)));
        cluster.TickAll(2);

        Assert.False(cluster[2].TransferLeadership(N(3)));
        Assert.False(cluster[1].TransferLeadership(N(1)));
        Assert.False(cluster[1].TransferLeadership(N(4))); // a learner
        Assert.False(cluster[1].TransferLeadership(N(9)));
        Assert.Null(cluster[1].TransferTarget);
    }

    [Fact]
    public void MostCaughtUpVoterIsTheVoterWithTheHighestMatch()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Isolated.Add(N(2));
        cluster.Put(1, 1, 1, "k", "v");

        Assert.Equal(N(3), cluster[1].MostCaughtUpVoter());
        Assert.Null(cluster[2].MostCaughtUpVoter());
    }
}
