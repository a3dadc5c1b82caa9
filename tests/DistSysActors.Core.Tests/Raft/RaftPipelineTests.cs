using DistSysActors.Core.Raft;
using static DistSysActors.Core.Tests.Raft.RaftTestCluster;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>
/// While a node's disk write is in flight (its Ready taken, not yet advanced), what promises nothing about that disk
/// does not wait for it: committed entries are applied, and heartbeat answers, forwarded proposals and pre-vote
/// grants leave at once, in Readies without writes. What the write promises (append acknowledgements, votes) still waits.
/// </summary>
public sealed class RaftPipelineTests
{
    private static byte[] Bytes(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    [Fact]
    public void A_leader_applies_an_entry_its_followers_committed_while_its_own_write_is_in_flight()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var leader = cluster[1];
        leader.Propose(Bytes("a"));
        var inFlight = leader.TakeReady();
        Assert.True(inFlight.MustSync);

        foreach (var append in inFlight.MessagesBeforePersist.OfType<AppendEntries>())
        {
            var follower = cluster.Nodes[append.To];
            follower.Step(append);
            var write = follower.TakeReady();
            cluster.Storage[append.To].Persist(write);
            follower.Advance(write);
            foreach (var answer in write.AllMessages.Where(m => m.To == leader.Id)) leader.Step(answer);
        }

        // Both followers hold it durably: committed, though the leader's own write has not finished.
        Assert.True(leader.HasReady);
        var light = leader.TakeReady();
        Assert.False(light.MustSync);
        Assert.Equal(Bytes("a"), Assert.Single(light.CommittedEntries).Data);
        leader.Advance(light);
        Assert.Equal(light.CommittedEntries[0].Index, leader.AppliedIndex);

        cluster.Storage[leader.Id].Persist(inFlight);
        leader.Advance(inFlight);
        Assert.Empty(leader.HasReady ? leader.TakeReady().CommittedEntries : []); // applied once, not again
    }

    [Fact]
    public void A_follower_answers_a_heartbeat_and_forwards_a_proposal_while_its_write_is_in_flight_but_acknowledges_entries_only_after_it()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var leader = cluster[1];
        var follower = cluster[2];
        leader.Propose(Bytes("a"));
        var leaderWrite = leader.TakeReady();
        follower.Step(leaderWrite.MessagesBeforePersist.OfType<AppendEntries>().Single(m => m.To == follower.Id));
        var followerWrite = follower.TakeReady();
        Assert.True(followerWrite.MustSync);
        Assert.Contains(followerWrite.Messages, m => m is AppendEntriesResponse); // the acknowledgement waits for the disk

        for (var i = 0; i < leader.Config.HeartbeatTicks; i++) leader.Tick();
        Assert.True(leader.HasReady); // the leader's heartbeats do not wait for its own write either
        var heartbeat = leader.TakeReady().MessagesBeforePersist.OfType<Heartbeat>().First(m => m.To == follower.Id);
        follower.Step(heartbeat);
        Assert.Equal(ProposeStatus.Forwarded, follower.Propose(Bytes("b")).Status);

        Assert.True(follower.HasReady);
        var light = follower.TakeReady();
        Assert.False(light.MustSync);
        Assert.Empty(light.Messages);
        Assert.Contains(light.MessagesBeforePersist, m => m is HeartbeatResponse);
        Assert.Contains(light.MessagesBeforePersist, m => m is Propose p && p.To == leader.Id);
        follower.Advance(light);
        Assert.False(follower.HasReady); // nothing else until the write is durable
        Assert.Throws<InvalidOperationException>(() => follower.TakeReady());

        cluster.Storage[follower.Id].Persist(followerWrite);
        follower.Advance(followerWrite);
    }

    [Fact]
    public void A_pre_vote_grant_leaves_before_the_disk_write_and_a_vote_after_it()
    {
        var cluster = new RaftTestCluster(3); // no leader yet, so no lease stands in the way
        var voter = cluster[3];
        var term = voter.Term;

        voter.Step(new RequestVote(N(2), voter.Id, term + 1, 100, term, true));
        var preVote = voter.TakeReady();
        Assert.True(Assert.IsType<RequestVoteResponse>(Assert.Single(preVote.MessagesBeforePersist)).Granted);
        Assert.Empty(preVote.Messages);
        voter.Advance(preVote);

        voter.Step(new RequestVote(N(2), voter.Id, term + 1, 100, term, false));
        var vote = voter.TakeReady();
        Assert.True(vote.MustSync);
        Assert.True(Assert.IsType<RequestVoteResponse>(Assert.Single(vote.Messages)).Granted);
        Assert.Empty(vote.MessagesBeforePersist);
    }
}
