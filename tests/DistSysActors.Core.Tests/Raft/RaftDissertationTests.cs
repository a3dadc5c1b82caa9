using DistSysActors.Core.Raft;
using DistSysActors.Core.KeyValue;
using static DistSysActors.Core.Tests.Raft.RaftTestCluster;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>Rules from Ongaro's dissertation beyond the paper: PreVote, CheckQuorum, reads, leases, pipelined persistence.</summary>
public sealed class RaftDissertationTests
{
    private static int ElectionTicks => new RaftConfig { Id = N(1), Voters = [N(1)] }.ElectionTicks;

    [Fact]
    public void Dissertation9_6_PreVoteDoesNotRaiseTermOfAPartitionedNode()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Term;
        cluster.Isolated.Add(N(3));
        cluster.Tick(3, 10 * ElectionTicks);

        Assert.Equal(term, cluster[3].Term); // it kept asking, but only PreVotes
        Assert.Equal(RaftRole.PreCandidate, cluster[3].Role);
        Assert.Equal(0, cluster.Sent.OfType<RequestVote>().Count(v => v.From == N(3) && !v.PreVote));
    }

    [Fact]
    public void Dissertation9_6_RejoiningNodeDoesNotDisruptHealthyLeader()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Term;
        cluster.Isolated.Add(N(3));
        cluster.Tick(3, 5 * ElectionTicks);
        cluster.Isolated.Clear();

        cluster.TickAll(3 * ElectionTicks);

        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        Assert.Equal(term, cluster[1].Term);
        Assert.Equal(N(1), cluster[3].LeaderId);
    }

    [Fact]
    public void Dissertation4_2_3_NodeHearingFromLeaderIgnoresVoteRequestsOfHigherTerm()
    {
        // Without PreVote, a disruptive node with a higher term still cannot depose the leader while CheckQuorum holds.
        var cluster = new RaftTestCluster(3, configure: c => c with { PreVote = false });
        cluster.Elect(1);
        var term = cluster[1].Term;
        cluster[2].Step(new RequestVote(N(3), N(2), term + 1, 100, term, false));
        cluster.Stabilize();

        Assert.Equal(term, cluster[2].Term);
        Assert.NotEqual(N(3), cluster[2].VotedFor);
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
    }

    [Fact]
    public void Dissertation6_2_CheckQuorumLeaderStepsDownWhenItLosesMajority()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Isolated.Add(N(1));
        cluster.Tick(1, 2 * ElectionTicks);
        Assert.Equal(RaftRole.Follower, cluster[1].Role);
        Assert.Null(cluster[1].LeaderId);
    }

    [Fact]
    public void Dissertation6_2_WithoutCheckQuorumIsolatedLeaderStaysLeader()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { CheckQuorum = false });
        cluster.Elect(1);
        cluster.Isolated.Add(N(1));
        cluster.Tick(1, 3 * ElectionTicks);
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
    }

    [Fact]
    public void Dissertation10_2_1_LeaderSendsAppendBeforePersistingButCountsItselfOnlyWhenDurable()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var leader = cluster[1];
        var index = leader.Propose(Data("x")).Index;
        var ready = leader.TakeReady();
        Assert.Contains(ready.MessagesBeforePersist, m => m is AppendEntries a && a.Entries.Any(e => e.Index == index));

        // The follower answers while the leader's own write is still in flight.
        var append = ready.MessagesBeforePersist.OfType<AppendEntries>().First(a => a.To == N(2));
        cluster[2].Step(append);
        var ack = cluster[2].TakeReady();
        cluster[2].Advance(ack);
        leader.Step(Assert.Single(ack.Messages));
        Assert.True(leader.CommitIndex < index, "one follower without the leader's durable copy is not a majority of three");

        leader.Advance(ready);
        Assert.Equal(index, leader.CommitIndex);
    }

    [Fact]
    public void VoteAndAppendAcknowledgementsWaitForPersistence()
    {
        var voter = new RaftTestCluster(3)[1];
        voter.Step(new RequestVote(N(2), N(1), 1, 0, 0, false));
        var ready = voter.TakeReady();
        Assert.Equal(new HardState(1, N(2), 0), ready.HardState);
        Assert.Empty(ready.MessagesBeforePersist);
        Assert.True(Assert.IsType<RequestVoteResponse>(Assert.Single(ready.Messages)).Granted);
        voter.Advance(ready);

        voter.Step(new AppendEntries(N(2), N(1), 1, 0, 0, [new LogEntry(1, 1, EntryType.NoOp, LogEntry.EmptyData)], 0));
        ready = voter.TakeReady();
        Assert.Single(ready.Entries);
        Assert.Empty(ready.MessagesBeforePersist);
        Assert.True(Assert.IsType<AppendEntriesResponse>(Assert.Single(ready.Messages)).Success);
    }

    [Fact]
    public void Dissertation6_4_ReadIndexIsReleasedOnlyAfterHeartbeatQuorum()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Put(1, 1, 1, "k", "v");
        cluster.Isolated.UnionWith([N(2), N(3)]);
        cluster[1].ReadIndex(42);
        cluster.Stabilize();
        Assert.Empty(cluster.Reads[N(1)]);

        cluster.Isolated.Clear();
        cluster.Tick(1); // the next heartbeat round reaches a majority
        var read = Assert.Single(cluster.Reads[N(1)]);
        Assert.Equal(42, read.RequestId);
        Assert.Equal(cluster[1].CommitIndex, read.Index);
    }

    [Fact]
    public void Dissertation6_4_ReadIndexWaitsUntilLeaderCommitsEntryOfItsTerm()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Put(1, 1, 1, "k", "v");
        // Node 1 is cut off and appends are held back, so whoever wins next cannot commit its no-op.
        cluster.Isolated.Add(N(1));
        cluster.Deliverable = m => m is not AppendEntries;
        cluster.TickAll(3 * ElectionTicks);
        var leader = cluster.Nodes.Values.Single(n => n.Role == RaftRole.Leader && n.Id != N(1));
        leader.ReadIndex(7);
        cluster.TickAll(2);
        Assert.Empty(cluster.Reads[leader.Id]);

        cluster.Deliverable = _ => true;
        cluster.TickAll(2);
        var read = Assert.Single(cluster.Reads[leader.Id]);
        Assert.True(leader.Log[(int)read.Index - 1].Term == leader.Term, "read index must cover the new leader's no-op");
    }

    [Fact]
    public void Dissertation6_4_DeposedLeaderDropsPendingReads()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Isolated.Add(N(1));
        cluster[1].ReadIndex(5);
        cluster.Tick(1, 2 * ElectionTicks); // CheckQuorum deposes it
        Assert.Empty(cluster.Reads[N(1)]);
        Assert.Equal([5L], cluster.ReadsDropped[N(1)]);
    }

    [Fact]
    public void Dissertation6_4_FollowerReadIndexIsConfirmedByLeaderAndServedAfterApply()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Put(1, cluster.Register(1), 1, "k", "v");
        cluster[3].ReadIndex(9);
        cluster.Stabilize();
        cluster.Tick(1);

        var read = Assert.Single(cluster.Reads[N(3)]);
        Assert.Equal(cluster[1].CommitIndex, read.Index);
        Assert.True(cluster.Kv[N(3)].AppliedIndex >= read.Index);
        Assert.Equal("v", cluster.Kv[N(3)].Get("k"));
    }

    [Fact]
    public void FollowerWithoutLeaderDropsReadsAndProposals()
    {
        var cluster = new RaftTestCluster(3);
        cluster[2].ReadIndex(1);
        var proposal = cluster[2].Propose(Data("x"));
        cluster.Stabilize();
        Assert.Equal(ProposeStatus.Dropped, proposal.Status);
        Assert.Equal([1L], cluster.ReadsDropped[N(2)]);
    }

    [Fact]
    public void FollowerForwardsProposalToLeaderAndAppliesItLocally()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var client = cluster.Register(3);
        var result = cluster.Put(3, client, 1, "k", "forwarded");
        Assert.Equal(ProposeStatus.Forwarded, result.Status);
        Assert.Equal(N(1), result.LeaderId);
        cluster.Tick(1);
        // The follower's host answers its client when the session's result comes out of its own state machine.
        Assert.Contains(cluster.KvResults[N(3)], r => r.ClientId == client && r.Sequence == 1 && r.Result.Status == KvStatus.Ok);
        Assert.Equal("forwarded", cluster.Kv[N(1)].Get("k"));
    }

    /// <summary>
    /// A follower forwards read 1 to the leader and restarts before the answer arrives; its next incarnation's host
    /// numbers its reads from 1 again and forwards a new read 1 after more entries were committed. The late answer to
    /// the first read (an older read index) must not be taken for the new one, which would then miss those entries.
    /// The simulator cannot deliver it (it binds messages to the receiver's incarnation); a real network can.
    /// </summary>
    [Fact]
    public void Dissertation6_4_ALateReadAnswerForAnEarlierIncarnationIsNotTakenForTheNextOnesRead()
    {
        var config = new RaftConfig { Id = N(2), Voters = [N(1), N(2), N(3)] };
        var storage = new MemoryStorage();
        var sent = new List<RaftMessage>();
        var reads = new List<ReadState>();
        void Run(RaftNode node)
        {
            while (node.HasReady)
            {
                var ready = node.TakeReady();
                storage.Persist(ready);
                sent.AddRange(ready.AllMessages);
                reads.AddRange(ready.ReadStates);
                node.Advance(ready);
            }
        }
        static LogEntry Entry(long index) => new(index, 1, EntryType.Normal, [(byte)index]);

        var first = new RaftNode(config, new DeterministicRandom(7));
        first.Step(new AppendEntries(N(1), N(2), 1, 0, 0, [Entry(1), Entry(2), Entry(3)], 3));
        first.ReadIndex(1);
        Run(first);
        var lateQuestion = Assert.Single(sent.OfType<ReadIndexRequest>());

        // A new incarnation (its own random source, as a restarted process has) catches up to commit 6, then reads.
        sent.Clear();
        var second = new RaftNode(config, new DeterministicRandom(8), storage.State);
        second.Step(new AppendEntries(N(1), N(2), 1, 3, 1, [Entry(4), Entry(5), Entry(6)], 6));
        second.ReadIndex(1);
        Run(second);
        var question = Assert.Single(sent.OfType<ReadIndexRequest>());

        second.Step(new ReadIndexResponse(N(1), N(2), 1, lateQuestion.RequestId, 3)); // the leader's answer to the first incarnation
        Run(second);
        Assert.Empty(reads);
        second.Step(new ReadIndexResponse(N(1), N(2), 1, question.RequestId, 6));
        Run(second);
        Assert.Equal([new ReadState(1, 6)], reads);
        // On the wire the two reads differ, although the hosts numbered both 1.
        Assert.NotEqual(lateQuestion.RequestId, question.RequestId);
    }

    [Fact]
    public void Dissertation6_4_1_LeaseReadNeedsNoRoundWhileLeaseIsHeld()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Tick(1); // one acknowledged heartbeat round starts the lease
        Assert.True(cluster[1].HasLease);
        var sent = cluster.Sent.Count;
        cluster[1].ReadIndex(1, ReadMode.Lease);
        cluster.Stabilize();
        Assert.Single(cluster.Reads[N(1)]);
        Assert.Equal(sent, cluster.Sent.Count); // served without any message
    }

    [Fact]
    public void Dissertation6_4_1_LeaseExpiresAfterElectionTimeoutMinusDrift()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { LeaseClockDriftTicks = 3, HeartbeatTicks = 1 });
        cluster.Elect(1);
        cluster.Tick(1);
        cluster.Isolated.UnionWith([N(2), N(3)]);
        var heldTicks = 0;
        while (cluster[1].HasLease) { cluster[1].Tick(); cluster.Stabilize(); heldTicks++; }
        // The last acknowledged round was sent at the current tick: the lease lasts ElectionTicks - drift ticks from it.
        Assert.Equal(ElectionTicks - 3, heldTicks);

        cluster[1].ReadIndex(2, ReadMode.Lease);
        cluster.Stabilize();
        Assert.Empty(cluster.Reads[N(1)]); // falls back to a round, which cannot complete
    }

    /// <summary>
    /// The lease is time on the host's clock, not ticks processed: a leader whose process was paused past the lease
    /// (no tick in between) and is asked for a lease read at its first event after the pause must confirm with a round.
    /// </summary>
    [Fact]
    public void Dissertation6_4_1_LeaseIsMeasuredOnTheHostsClockSoAPausedLeaderHoldsNone()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { TickMs = 10 });
        cluster.Elect(1);
        cluster.Tick(1);
        var leader = cluster[1];
        Assert.True(leader.HasLease);
        var leaseMs = (ElectionTicks - leader.Config.LeaseClockDriftTicks) * 10L;

        // Within the lease on the clock: served at once, without a message.
        var sent = cluster.Sent.Count;
        leader.ReadIndex(1, ReadMode.Lease, leader.ClockMs + leaseMs / 2);
        cluster.Stabilize();
        Assert.Equal([1L], cluster.Reads[N(1)].Select(r => r.RequestId));
        Assert.Equal(sent, cluster.Sent.Count);

        // Paused for a second: not one tick processed, but the clock says the lease ran out.
        leader.ReadIndex(2, ReadMode.Lease, leader.ClockMs + 1_000);
        Assert.False(leader.HasLease);
        cluster.Isolated.UnionWith([N(2), N(3)]);
        cluster.Stabilize();
        Assert.DoesNotContain(cluster.Reads[N(1)], r => r.RequestId == 2); // it waits for a heartbeat round, which cannot complete
        Assert.Contains(cluster.Sent.Skip(sent), m => m is Heartbeat);
    }

    [Fact]
    public void RaftConfig_TickMsTurnsTicksIntoClockTimeForHostsWithoutAClock()
    {
        var node = new RaftNode(new RaftConfig { Id = N(1), Voters = [N(1), N(2), N(3)], TickMs = 25 }, new DeterministicRandom(1));
        for (var i = 0; i < 4; i++) node.Tick();
        Assert.Equal(100, node.ClockMs);
        node.Tick(5_000);
        node.Step(new Heartbeat(N(2), N(1), 0, 0, 0), 4_000); // a clock never goes back
        Assert.Equal(5_000, node.ClockMs);
        Assert.Contains("TickMs", string.Join("\n", (new RaftConfig { Id = N(1), Voters = [N(1)], TickMs = 0 }).Validate()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Dissertation6_4_1_LeaseEndsBeforeAnyOtherLeaderCanBeElected(long seed)
    {
        var cluster = new RaftTestCluster(5, seed);
        cluster.Elect(1);
        cluster.TickAll(3);
        Assert.True(cluster[1].HasLease);
        cluster.Isolated.Add(N(1));
        int? leaseEnded = null, otherElected = null;
        for (var tick = 1; tick <= 10 * ElectionTicks && otherElected is null; tick++)
        {
            cluster.TickAll(1);
            if (leaseEnded is null && !cluster[1].HasLease) leaseEnded = tick;
            if (cluster.Nodes.Values.Any(n => n.Id != N(1) && n.Role == RaftRole.Leader)) otherElected = tick;
        }
        Assert.NotNull(otherElected);
        Assert.True(leaseEnded < otherElected, $"seed {seed}: lease ended at tick {leaseEnded}, another leader at tick {otherElected}");
    }

    [Fact]
    public void ConfigValidationNamesEachBadField()
    {
        var bad = new RaftConfig { Id = N(9), Voters = [N(1), N(1)], ElectionTicks = 2, HeartbeatTicks = 2, LeaseClockDriftTicks = 0, AppendEntriesMax = 0 };
        var errors = string.Join("\n", bad.Validate());
        foreach (var field in new[] { "Voters must contain Id", "Voters must be distinct", "ElectionTicks", "LeaseClockDriftTicks", "AppendEntriesMax" })
            Assert.Contains(field, errors);
        Assert.Throws<ArgumentException>(() => new RaftNode(bad, new DeterministicRandom(1)));
    }

    [Fact]
    public void Dissertation6_4_1_NoLeaseWithoutCheckQuorum()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { CheckQuorum = false });
        cluster.Elect(1);
        cluster.Tick(1);
        Assert.False(cluster[1].HasLease);
    }

    [Fact]
    public void Dissertation6_4_1_RestartedNodeIgnoresVotesForOneElectionTimeout()
    {
        // It may have acknowledged a lease before crashing; granting a vote at once could let a second leader serve reads.
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Restart(2);
        // The restarted node first applies the entries it knows committed, as its host would.
        if (cluster[2].HasReady) cluster[2].Advance(cluster[2].TakeReady());
        var term = cluster[2].Term;
        cluster[2].Step(new RequestVote(N(3), N(2), term + 1, 100, term, true));
        Assert.False(cluster[2].HasReady);

        for (var i = 0; i < ElectionTicks; i++) cluster[2].Tick();
        cluster[2].Step(new RequestVote(N(3), N(2), term + 1, 100, term, true));
        var reply = cluster[2].TakeReady().AllMessages.OfType<RequestVoteResponse>().Single();
        Assert.True(reply.Granted);
    }

    [Fact]
    public void SingleNodeClusterElectsItselfAndCommitsAfterPersisting()
    {
        var cluster = new RaftTestCluster(1);
        cluster.Tick(1, 2 * ElectionTicks);
        Assert.Equal(RaftRole.Leader, cluster[1].Role);
        cluster.Put(1, cluster.Register(1), 1, "k", "v");
        Assert.Equal("v", cluster.Kv[N(1)].Get("k"));
        cluster[1].ReadIndex(3);
        cluster.Stabilize();
        Assert.Single(cluster.Reads[N(1)]);
    }

    [Fact]
    public void ProposalsBeyondUncommittedLimitAreDropped()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { UncommittedEntriesMax = 5 });
        cluster.Elect(1);
        cluster.Isolated.UnionWith([N(2), N(3)]);
        var statuses = Enumerable.Range(0, 8).Select(i => cluster[1].Propose(Data($"{i}")).Status).ToList();
        Assert.Equal(5, statuses.Count(s => s == ProposeStatus.Appended));
        Assert.Equal(3, statuses.Count(s => s == ProposeStatus.Dropped));
    }

    [Fact]
    public void AppendEntriesRespectsEntryAndByteLimits()
    {
        var cluster = new RaftTestCluster(2, configure: c => c with { AppendEntriesMax = 3, AppendBytesMax = 10, CheckQuorum = false });
        cluster.Elect(1);
        cluster.Isolated.Add(N(2));
        for (var i = 0; i < 10; i++) cluster[1].Propose(Data("abcd"));
        cluster.Stabilize();
        cluster.Isolated.Clear();
        cluster.Tick(1);
        cluster.TickAll(5);
        Assert.All(cluster.Sent.OfType<AppendEntries>(), a =>
        {
            Assert.True(a.Entries.Length <= 3);
            Assert.True(a.Entries.Length <= 1 || a.Entries.Sum(e => e.Data.Length) <= 10);
        });
        Assert.Equal(cluster[1].Log, cluster[2].Log);
    }

    [Fact]
    public void ReadyCannotBeTakenTwiceWithoutAdvance()
    {
        var cluster = new RaftTestCluster(3);
        cluster[1].Campaign();
        var ready = cluster[1].TakeReady();
        Assert.False(cluster[1].HasReady);
        Assert.Throws<InvalidOperationException>(() => cluster[1].TakeReady());
        cluster[1].Advance(ready);
        Assert.Throws<InvalidOperationException>(() => cluster[1].Advance(ready));
    }

    [Fact]
    public void ElectionAndAgreementUseABoundedNumberOfMessages()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        // PreVote, vote, the no-op append and the heartbeat that tells a follower it committed (if no append did): a
        // request and a response to each of two peers.
        Assert.InRange(cluster.Sent.Count, 12, 16);
        Assert.All(new[] { 2, 3 }, f => Assert.Equal(cluster[1].CommitIndex, cluster[f].CommitIndex));
        var before = cluster.Sent.Count;
        // One write alone: its append and the commit notice, each to two peers and answered.
        for (var i = 0; i < 10; i++) cluster.Put(1, 1, i + 1, "k", $"{i}");
        Assert.InRange(cluster.Sent.Count - before, 10 * 4, 10 * 8);
        Assert.All(new[] { 2, 3 }, f => Assert.Equal(cluster[1].CommitIndex, cluster[f].CommitIndex));
    }
}
