using System.Collections.Immutable;
using DistSysActors.Core.Raft;
using static DistSysActors.Core.Tests.Raft.RaftTestCluster;

namespace DistSysActors.Core.Tests.Raft;

/// <summary>One test per rule of the Raft paper (Ongaro and Ousterhout, 2014), named after its section.</summary>
public sealed class RaftPaperTests
{
    private static RaftConfig Config(int id, int size, bool preVote = false, bool checkQuorum = false) => new()
    {
        Id = N(id),
        Voters = Enumerable.Range(1, size).Select(N).ToImmutableArray(),
        PreVote = preVote,
        CheckQuorum = checkQuorum,
    };

    private static RaftNode Node(int id, int size, bool preVote = false, RaftPersistentState? state = null, long seed = 7, bool checkQuorum = false) =>
        new(Config(id, size, preVote, checkQuorum), new DeterministicRandom(seed), state);

    /// <summary>Takes and advances one Ready as a host would, returning every message in it.</summary>
    private static List<RaftMessage> Drain(RaftNode node)
    {
        if (!node.HasReady) return [];
        var ready = node.TakeReady();
        node.Advance(ready);
        return ready.AllMessages.ToList();
    }

    private static RaftPersistentState LogWithTerms(long term, params long[] terms) =>
        new(new HardState(term, null, 0), terms.Select((t, i) => new LogEntry(i + 1, t, EntryType.Normal, Data($"e{i + 1}"))).ToImmutableArray());

    [Fact]
    public void Section5_1_NodeStartsAsFollowerWithoutLeader()
    {
        var node = Node(1, 3);
        Assert.Equal(RaftRole.Follower, node.Role);
        Assert.Null(node.LeaderId);
        Assert.Equal(0, node.Term);
    }

    [Theory]
    [InlineData(RaftRole.Follower)]
    [InlineData(RaftRole.Candidate)]
    [InlineData(RaftRole.Leader)]
    public void Section5_1_HigherTermInMessageUpdatesTermAndRevertsToFollower(RaftRole start)
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { PreVote = false, CheckQuorum = false });
        if (start == RaftRole.Leader) cluster.Elect(1);
        var node = cluster[1];
        if (start == RaftRole.Candidate) { node.Campaign(); Drain(node); }
        Assert.Equal(start, node.Role);
        var term = node.Term;

        node.Step(new AppendEntries(N(2), N(1), term + 5, 0, 0, [], 0));

        Assert.Equal(RaftRole.Follower, node.Role);
        Assert.Equal(term + 5, node.Term);
        Assert.Equal(N(2), node.LeaderId);
    }

    [Fact]
    public void Section5_1_StaleTermMessageIsRejectedWithCurrentTerm()
    {
        var node = Node(1, 3, state: new RaftPersistentState(new HardState(5, null, 0), []), checkQuorum: true);
        node.Step(new AppendEntries(N(2), N(1), 3, 0, 0, [new LogEntry(1, 3, EntryType.Normal, Data("x"))], 1));

        Assert.Equal(0, node.LastLogIndex);
        Assert.Null(node.LeaderId);
        var reply = Assert.IsType<AppendEntriesResponse>(Assert.Single(Drain(node)));
        Assert.False(reply.Success);
        Assert.Equal(5, reply.Term);
    }

    [Fact]
    public void Section5_2_LeaderSendsHeartbeatEveryHeartbeatTimeout()
    {
        var cluster = new RaftTestCluster(3, configure: c => c with { HeartbeatTicks = 2 });
        cluster.Elect(1);
        var leader = cluster[1];

        leader.Tick();
        Assert.DoesNotContain(Drain(leader), m => m is Heartbeat);
        leader.Tick();
        var beats = Drain(leader).OfType<Heartbeat>().ToList();
        Assert.Equal([N(2), N(3)], beats.Select(b => b.To).Order());
        Assert.All(beats, b => Assert.Equal(leader.Term, b.Term));
    }

    [Fact]
    public void Section5_2_FollowerStartsElectionAfterElectionTimeout()
    {
        var node = Node(1, 3);
        for (var i = 0; i < 2 * node.Config.ElectionTicks; i++) node.Tick();

        Assert.Equal(RaftRole.Candidate, node.Role);
        Assert.Equal(1, node.Term);
        Assert.Equal(N(1), node.VotedFor);
        var ready = node.TakeReady();
        Assert.Equal(new HardState(1, N(1), 0), ready.HardState);
        // Vote requests promise the persisted vote, so they wait for persistence.
        Assert.Empty(ready.MessagesBeforePersist);
        Assert.Equal([N(2), N(3)], ready.Messages.OfType<RequestVote>().Select(m => m.To).Order());
    }

    [Fact]
    public void Section5_2_ElectionTimeoutIsRandomizedBetweenBaseAndTwiceBase()
    {
        var seen = new HashSet<int>();
        for (var seed = 0; seed < 200; seed++)
        {
            var node = Node(1, 3, seed: seed);
            var ticks = 0;
            while (node.Role == RaftRole.Follower) { node.Tick(); ticks++; }
            Assert.InRange(ticks, node.Config.ElectionTicks, 2 * node.Config.ElectionTicks - 1);
            seen.Add(ticks);
        }
        // Ten possible values in [10, 20); 200 seeds should hit most of them.
        Assert.True(seen.Count >= 8, $"timeouts should spread over the range, saw {string.Join(',', seen.Order())}");
    }

    [Theory]
    [InlineData(1, new bool[0], RaftRole.Leader)]
    [InlineData(3, new[] { true }, RaftRole.Leader)]
    [InlineData(3, new[] { false, false }, RaftRole.Follower)]
    [InlineData(3, new[] { false }, RaftRole.Candidate)]
    [InlineData(5, new[] { true, false, true }, RaftRole.Leader)]
    [InlineData(5, new[] { true, false, false }, RaftRole.Candidate)]
    [InlineData(5, new[] { false, false, false }, RaftRole.Follower)]
    public void Section5_2_CandidateWinsWithMajority(int size, bool[] votes, RaftRole expected)
    {
        var node = Node(1, size);
        node.Campaign();
        Drain(node);
        for (var i = 0; i < votes.Length; i++)
            node.Step(new RequestVoteResponse(N(i + 2), N(1), 1, votes[i], false));
        Assert.Equal(expected, node.Role);
    }

    [Fact]
    public void Section5_2_VoterGrantsAtMostOneVotePerTerm()
    {
        var node = Node(1, 3);
        node.Step(new RequestVote(N(2), N(1), 1, 0, 0, false));
        node.Step(new RequestVote(N(3), N(1), 1, 0, 0, false));
        node.Step(new RequestVote(N(2), N(1), 1, 0, 0, false)); // a retry from the same candidate is granted again

        var replies = Drain(node).Cast<RequestVoteResponse>().ToList();
        Assert.Equal([true, false, true], replies.Select(r => r.Granted));
        Assert.Equal(N(2), node.VotedFor);
    }

    [Fact]
    public void Section5_2_CandidateRevertsToFollowerOnAppendFromLeaderOfSameTerm()
    {
        var node = Node(1, 3);
        node.Campaign();
        Drain(node);
        node.Step(new AppendEntries(N(2), N(1), node.Term, 0, 0, [], 0));
        Assert.Equal(RaftRole.Follower, node.Role);
        Assert.Equal(N(2), node.LeaderId);
        Assert.Equal(1, node.Term);
    }

    [Fact]
    public void Section5_2_SplitVoteLeadsToNewElectionInHigherTerm()
    {
        var node = Node(1, 3);
        node.Campaign();
        Drain(node);
        for (var i = 0; i < 2 * node.Config.ElectionTicks; i++) node.Tick();
        Assert.Equal(RaftRole.Candidate, node.Role);
        Assert.Equal(2, node.Term);
    }

    [Fact]
    public void Section5_3_LeaderAppendsProposalAndReplicatesToFollowers()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        var result = cluster[1].Propose(Data("cmd"));

        Assert.Equal(ProposeStatus.Appended, result.Status);
        var ready = cluster[1].TakeReady();
        Assert.Equal(result.Index, Assert.Single(ready.Entries).Index);
        var appends = ready.MessagesBeforePersist.OfType<AppendEntries>().ToList();
        Assert.Equal(2, appends.Count);
        Assert.All(appends, a => Assert.Equal(Data("cmd"), Assert.Single(a.Entries).Data));
        cluster[1].Advance(ready);
    }

    [Fact]
    public void Section5_3_EntryCommitsOnceStoredOnMajorityAndAppliesEverywhereInOrder()
    {
        var cluster = new RaftTestCluster(5);
        cluster.Elect(1);
        cluster.Isolated.Add(N(4));
        cluster.Isolated.Add(N(5));
        for (var i = 0; i < 5; i++) cluster[1].Propose(Data($"v{i}"));
        cluster.Stabilize();
        Assert.Equal(6, cluster[1].CommitIndex); // no-op + 5

        cluster.Isolated.Clear();
        cluster.TickAll(3);
        foreach (var (id, applied) in cluster.Applied)
        {
            Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), applied.Select(e => e.Index));
            Assert.Equal(["v0", "v1", "v2", "v3", "v4"], applied.Skip(1).Select(e => System.Text.Encoding.UTF8.GetString(e.Data)));
        }
    }

    [Fact]
    public void Section5_3_NoCommitWithoutMajority()
    {
        var cluster = new RaftTestCluster(5);
        cluster.Elect(1);
        var before = cluster[1].CommitIndex;
        cluster.Isolated.UnionWith([N(3), N(4), N(5)]);
        cluster[1].Propose(Data("lonely"));
        cluster.Stabilize();
        Assert.Equal(before, cluster[1].CommitIndex);
        Assert.Equal(before + 1, cluster[1].LastLogIndex);
    }

    [Fact]
    public void Section5_3_FollowerRejectsMismatchedPrevLogWithConflictHint()
    {
        var node = Node(1, 3, state: LogWithTerms(3, 1, 1, 2, 2, 2));
        node.Step(new AppendEntries(N(2), N(1), 4, 5, 3, [], 0));
        var reject = Assert.IsType<AppendEntriesResponse>(Assert.Single(Drain(node)));
        Assert.False(reject.Success);
        Assert.Equal(5, reject.RejectedIndex);
        Assert.Equal(2, reject.ConflictTerm);
        Assert.Equal(3, reject.ConflictIndex); // first index of term 2

        node.Step(new AppendEntries(N(2), N(1), 4, 9, 3, [], 0));
        var shortLog = Assert.IsType<AppendEntriesResponse>(Assert.Single(Drain(node)));
        Assert.Equal(0, shortLog.ConflictTerm);
        Assert.Equal(6, shortLog.ConflictIndex);
    }

    [Fact]
    public void Section5_3_FollowerDeletesConflictingEntriesAndAppendsNewOnes()
    {
        var node = Node(1, 3, state: LogWithTerms(2, 1, 1, 2, 2));
        var newer = new LogEntry(3, 3, EntryType.Normal, Data("new"));
        node.Step(new AppendEntries(N(2), N(1), 3, 2, 1, [newer], 0));

        Assert.Equal(3, node.LastLogIndex);
        Assert.Equal(newer, node.Log[^1]);
        var ready = node.TakeReady();
        // The host must overwrite from index 3 on.
        Assert.Equal(3, Assert.Single(ready.Entries).Index);
        var ack = Assert.IsType<AppendEntriesResponse>(Assert.Single(ready.Messages));
        Assert.True(ack.Success);
        Assert.Equal(3, ack.MatchIndex);
    }

    [Fact]
    public void Section5_3_AppendIsIdempotentAndKeepsLaterMatchingEntries()
    {
        var node = Node(1, 3, state: LogWithTerms(2, 1, 1, 2, 2));
        node.Step(new AppendEntries(N(2), N(1), 2, 1, 1, [new LogEntry(2, 1, EntryType.Normal, Data("e2"))], 0));
        Assert.Equal(4, node.LastLogIndex); // a stale, matching append never truncates
        var ack = Assert.IsType<AppendEntriesResponse>(Assert.Single(Drain(node)));
        Assert.Equal(2, ack.MatchIndex);
    }

    [Fact]
    public void Section5_3_FollowerCommitIsBoundedByLastNewEntry()
    {
        var node = Node(1, 3, state: LogWithTerms(2, 1, 1, 1, 1));
        node.Step(new AppendEntries(N(2), N(1), 2, 1, 1, [new LogEntry(2, 1, EntryType.Normal, Data("e2"))], 4));
        Assert.Equal(2, node.CommitIndex);
    }

    /// <summary>Figure 7: whatever the followers' logs, the leader brings them in line with its own.</summary>
    [Theory]
    [InlineData("1,1,1,4,4,5,5,6,6")]                 // (a) missing entries
    [InlineData("1,1,1,4")]                           // (b)
    [InlineData("1,1,1,4,4,5,5,6,6,6,6")]             // (c) extra entries of the leader's older term
    [InlineData("1,1,1,4,4,5,5,6,6,6,7,7")]           // (d) extra uncommitted entries of a later term
    [InlineData("1,1,1,4,4,4,4")]                     // (e)
    [InlineData("1,1,1,2,2,2,3,3,3,3,3")]             // (f)
    public void Section5_3_LeaderBringsFigure7FollowerLogsInLine(string followerTerms)
    {
        long[] leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
        // Node 3 holds the leader's log, so node 1 wins whatever node 2 holds.
        var cluster = new RaftTestCluster(3, configure: c => c with { CheckQuorum = false });
        var follower = followerTerms.Split(',').Select(long.Parse).ToArray();
        var leaderState = LogWithTerms(8, leaderTerms);
        var followerState = LogWithTerms(8, follower);
        foreach (var id in new[] { 1, 3 }) cluster.Storage[N(id)].Persist(new Ready(leaderState.HardState, leaderState.Entries, [], [], [], [], []));
        cluster.Storage[N(2)].Persist(new Ready(followerState.HardState, followerState.Entries, [], [], [], [], []));
        foreach (var id in new[] { 1, 2, 3 }) cluster.Restart(id);

        cluster.Elect(1);
        cluster.Tick(1); // the heartbeat carries the new commit index

        Assert.Equal(cluster[1].Log, cluster[2].Log);
        Assert.Equal(cluster[1].Log, cluster.Storage[N(2)].Entries);
        Assert.Equal(11, cluster[2].CommitIndex);
    }

    [Fact]
    public void Section5_3_FastBacktrackingNeedsOneRejectionPerConflictingTerm()
    {
        // The follower holds 60 entries of a term the leader never saw; the leader skips them in one step.
        var cluster = new RaftTestCluster(3, configure: c => c with { CheckQuorum = false });
        var leaderLog = LogWithTerms(5, [.. Enumerable.Repeat(1L, 10), .. Enumerable.Repeat(3L, 60)]);
        var stale = LogWithTerms(5, [.. Enumerable.Repeat(1L, 10), .. Enumerable.Repeat(2L, 60)]);
        foreach (var id in new[] { 1, 3 }) cluster.Storage[N(id)].Persist(new Ready(leaderLog.HardState, leaderLog.Entries, [], [], [], [], []));
        cluster.Storage[N(2)].Persist(new Ready(stale.HardState, stale.Entries, [], [], [], [], []));
        foreach (var id in new[] { 1, 2, 3 }) cluster.Restart(id);

        cluster.Elect(1);

        var rejections = cluster.Sent.OfType<AppendEntriesResponse>().Count(r => r.From == N(2) && !r.Success);
        Assert.InRange(rejections, 1, 2);
        Assert.Equal(cluster[1].Log, cluster[2].Log);
    }

    [Theory]
    [InlineData(2, 5, 3, 5, true)]   // higher last term wins regardless of length
    [InlineData(2, 5, 2, 5, true)]   // same term, same length
    [InlineData(2, 5, 2, 6, true)]   // same term, longer
    [InlineData(2, 5, 2, 4, false)]  // same term, shorter
    [InlineData(2, 5, 1, 9, false)]  // lower last term loses regardless of length
    public void Section5_4_1_VoterRejectsCandidateWithLessUpToDateLog(long voterLastTerm, long voterLastIndex, long candLastTerm, long candLastIndex, bool granted)
    {
        var terms = Enumerable.Repeat(1L, (int)voterLastIndex - 1).Append(voterLastTerm).ToArray();
        var node = Node(1, 3, state: LogWithTerms(3, terms));
        node.Step(new RequestVote(N(2), N(1), 4, candLastIndex, candLastTerm, false));
        var reply = Assert.IsType<RequestVoteResponse>(Assert.Single(Drain(node)));
        Assert.Equal(granted, reply.Granted);
        Assert.Equal(granted ? N(2) : null, node.VotedFor);
    }

    /// <summary>Figure 8: a leader must not commit an entry of an earlier term by counting its replicas.</summary>
    [Fact]
    public void Section5_4_2_LeaderDoesNotCommitPreviousTermEntryByCounting()
    {
        // S1 is leader in term 4 with an entry of term 2 at index 2 that it replicates to a majority.
        var leader = Node(1, 5, state: LogWithTerms(3, 1, 2));
        leader.Campaign();
        Drain(leader);
        foreach (var v in new[] { 2, 3 }) leader.Step(new RequestVoteResponse(N(v), N(1), 4, true, false));
        Assert.Equal(RaftRole.Leader, leader.Role);
        Drain(leader);

        // Followers 2 and 3 acknowledge index 2 (the term-2 entry) but not yet the no-op at 3.
        leader.Step(new AppendEntriesResponse(N(2), N(1), 4, true, 2, 0, 0, 0));
        leader.Step(new AppendEntriesResponse(N(3), N(1), 4, true, 2, 0, 0, 0));
        Drain(leader);
        Assert.Equal(0, leader.CommitIndex);

        // Once a current-term entry is on a majority, everything before it commits too.
        leader.Step(new AppendEntriesResponse(N(2), N(1), 4, true, 3, 0, 0, 0));
        leader.Step(new AppendEntriesResponse(N(3), N(1), 4, true, 3, 0, 0, 0));
        Assert.Equal(3, leader.CommitIndex);
    }

    [Fact]
    public void Section5_5_RestartedNodeRecoversTermVoteAndLog()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        cluster.Put(1, cluster.Register(1), 1, "k", "v");
        var term = cluster[2].Term;
        var log = cluster[2].Log.ToList();
        cluster.Restart(2);

        Assert.Equal(term, cluster[2].Term);
        Assert.Equal(log, cluster[2].Log);
        Assert.Equal(RaftRole.Follower, cluster[2].Role);
        cluster.TickAll(1);
        Assert.Equal("v", cluster.Kv[N(2)].Get("k")); // committed entries re-applied from index 1
        Assert.Equal(log.Count, cluster.Applied[N(2)].Count);
    }

    [Fact]
    public void Section8_NewLeaderAppendsNoOpOfItsTerm()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(2);
        var entry = cluster[2].Log[^1];
        Assert.Equal(EntryType.NoOp, entry.Type);
        Assert.Equal(cluster[2].Term, entry.Term);
        Assert.Equal(entry.Index, cluster[2].CommitIndex);
    }

    [Fact]
    public void Section8_CommittedEntriesAreAppliedExactlyOnceAcrossReadies()
    {
        var cluster = new RaftTestCluster(3);
        cluster.Elect(1);
        for (var i = 0; i < 20; i++) { cluster[1].Propose(Data($"{i}")); if (i % 3 == 0) cluster.Stabilize(); }
        cluster.TickAll(2);
        foreach (var applied in cluster.Applied.Values)
            Assert.Equal(Enumerable.Range(1, 21).Select(i => (long)i), applied.Select(e => e.Index));
    }
}
