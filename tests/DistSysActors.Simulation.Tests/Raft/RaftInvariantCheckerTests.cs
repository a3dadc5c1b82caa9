using System.Collections.Immutable;
using System.Text;
using DistSysActors.Core;
using DistSysActors.Core.Raft;
using DistSysActors.Simulation.Raft;

namespace DistSysActors.Simulation.Tests.Raft;

/// <summary>The checker must flag each broken property; otherwise passing scenarios would prove nothing.</summary>
public sealed class RaftInvariantCheckerTests
{
    private static NodeId N(int id) => new(id);

    private static LogEntry E(long index, long term, string data) => new(index, term, EntryType.Normal, Encoding.UTF8.GetBytes(data));

    /// <summary>A node restored from the given state; a single-voter node can make itself leader.</summary>
    private static RaftNode Node(int id, long term, long commit, LogEntry[] log, bool soleVoter = false)
    {
        var config = new RaftConfig { Id = N(id), Voters = soleVoter ? [N(id)] : [N(1), N(2), N(3)] };
        return new RaftNode(config, new DeterministicRandom(id), new RaftPersistentState(new HardState(term, null, commit), [.. log]));
    }

    private static RaftNode Leader(int id, long term, LogEntry[] log)
    {
        var node = Node(id, term, 0, log, soleVoter: true);
        node.Campaign();
        Assert.Equal(RaftRole.Leader, node.Role);
        return node;
    }

    private static RaftNodeView View(RaftNode node) => new(node.Id, node, node.Log.ToList());

    /// <summary>The check reported a violation of exactly <paramref name="rule"/>, about what <paramref name="detail"/> names.</summary>
    private static void AssertViolates(RaftInvariant rule, string detail, RaftViolation? violation)
    {
        Assert.NotNull(violation);
        Assert.Equal(rule, violation.Rule);
        Assert.Contains(detail, violation.Description);
    }

    [Fact]
    public void HealthyClusterPasses()
    {
        LogEntry[] log = [E(1, 1, "a"), E(2, 1, "b")];
        var checker = new RaftInvariantChecker(3);
        Assert.Null(checker.Check([View(Node(1, 1, 2, log)), View(Node(2, 1, 1, log)), View(Node(3, 1, 0, log[..1]))]));
    }

    [Fact]
    public void FlagsTwoLeadersInOneTerm()
    {
        var checker = new RaftInvariantChecker(3);
        var violation = checker.Check([View(Leader(1, 4, [])), View(Leader(2, 4, []))]);
        AssertViolates(RaftInvariant.ElectionSafety, "nodes 1 and 2 both leaders in term 5", violation);
    }

    [Fact]
    public void FlagsEntriesThatDifferAtSameIndexAndTerm()
    {
        var checker = new RaftInvariantChecker(3);
        var violation = checker.Check([View(Node(1, 2, 0, [E(1, 1, "a"), E(2, 2, "b")])), View(Node(2, 2, 0, [E(1, 1, "a"), E(2, 2, "X")]))]);
        AssertViolates(RaftInvariant.LogMatching, "node 2 holds", violation);
    }

    [Fact]
    public void FlagsDifferentPrefixesBehindSameIndexAndTerm()
    {
        var checker = new RaftInvariantChecker(3);
        var violation = checker.Check([View(Node(1, 3, 0, [E(1, 1, "a"), E(2, 3, "b")])), View(Node(2, 3, 0, [E(1, 2, "a"), E(2, 3, "b")]))]);
        AssertViolates(RaftInvariant.LogMatching, "(previous term 2)", violation);
    }

    [Fact]
    public void FlagsLeaderMissingEntryCommittedInEarlierTerm()
    {
        var checker = new RaftInvariantChecker(3);
        LogEntry[] committed = [E(1, 1, "a")];
        Assert.Null(checker.Check([View(Node(1, 1, 1, committed)), View(Node(2, 1, 1, committed))]));
        var violation = checker.Check([View(Node(1, 1, 1, committed)), View(Node(2, 1, 1, committed)), View(Leader(3, 5, []))]);
        AssertViolates(RaftInvariant.LeaderCompleteness, "leader 3 of term 6 lacks committed entry", violation);
    }

    [Fact]
    public void FlagsCommittedEntryThatChanged()
    {
        var checker = new RaftInvariantChecker(3);
        Assert.Null(checker.Check([View(Node(1, 1, 1, [E(1, 1, "a")])), View(Node(2, 1, 1, [E(1, 1, "a")]))]));
        var violation = checker.Check([View(Node(3, 2, 1, [E(1, 2, "z")]))]);
        AssertViolates(RaftInvariant.CommittedPrefix, "node 3 has", violation);
    }

    [Fact]
    public void FlagsDifferentCommandsAppliedAtOneIndex()
    {
        var checker = new RaftInvariantChecker(3);
        checker.OnApplied(N(1), E(1, 1, "a"));
        checker.OnApplied(N(2), E(1, 1, "b"));
        AssertViolates(RaftInvariant.StateMachineSafety, "node 2 applied", checker.Check([]));
    }

    [Fact]
    public void FlagsAppliesOutOfOrder()
    {
        var checker = new RaftInvariantChecker(3);
        checker.OnApplied(N(1), E(1, 1, "a"));
        checker.OnApplied(N(1), E(3, 1, "c"));
        AssertViolates(RaftInvariant.ApplyOrder, "node 1 applied index 3 after 1", checker.Check([]));
    }

    [Fact]
    public void FlagsCommittedEntryPersistedOnlyOnMinority()
    {
        var checker = new RaftInvariantChecker(3);
        LogEntry[] log = [E(1, 1, "a")];
        var leader = Node(1, 1, 1, log);
        var views = ImmutableArray.Create(
            new RaftNodeView(N(1), leader, log),
            new RaftNodeView(N(2), null, []),
            new RaftNodeView(N(3), null, []));
        AssertViolates(RaftInvariant.Durability, "persisted on only 1 nodes", checker.Check(views));
    }
    private static readonly Membership ThreeVoters = new([N(1), N(2), N(3)], []);

    private static SnapshotMeta Meta(long index, long term) => new(index, term, ThreeVoters);

    /// <summary>A node restored from a snapshot at snapshotIndex plus the entries after it.</summary>
    private static RaftNode Compacted(int id, long term, long commit, long snapshotIndex, long snapshotTerm, LogEntry[] tail)
    {
        var config = new RaftConfig { Id = N(id), Voters = [N(1), N(2), N(3)] };
        var snapshot = new RaftSnapshot(Meta(snapshotIndex, snapshotTerm), [1, 2, 3]);
        return new RaftNode(config, new DeterministicRandom(id), new RaftPersistentState(new HardState(term, null, commit), [.. tail], snapshot));
    }

    [Fact]
    public void CompactedLogsThatAgreeWithFullOnesPass()
    {
        LogEntry[] log = [E(1, 1, "a"), E(2, 1, "b"), E(3, 2, "c"), E(4, 2, "d")];
        var checker = new RaftInvariantChecker(3);
        foreach (var e in log[..2]) checker.OnApplied(N(1), e);
        var full = Node(1, 2, 4, log);
        var compacted = Compacted(2, 2, 4, 2, 1, log[2..]);
        Assert.Equal(3, compacted.FirstLogIndex);
        Assert.Null(checker.Check([View(full), new RaftNodeView(N(2), compacted, log[2..], 2, 1), new RaftNodeView(N(3), null, [])]));
        // The same compacted node restarted (a fresh view of its log) still passes.
        checker.OnRestart(N(2), 2);
        Assert.Null(checker.Check([View(full), new RaftNodeView(N(2), Compacted(2, 2, 4, 2, 1, log[2..]), log[2..], 2, 1)]));
    }

    [Fact]
    public void FlagsASnapshotWhoseTermDisagreesWithTheCommittedEntry()
    {
        LogEntry[] log = [E(1, 1, "a"), E(2, 1, "b"), E(3, 2, "c")];
        var checker = new RaftInvariantChecker(3);
        Assert.Null(checker.Check([View(Node(1, 2, 3, log)), View(Node(3, 2, 3, log))]));
        var violation = checker.Check([View(Compacted(2, 2, 2, 2, 2, []))]);
        AssertViolates(RaftInvariant.CommittedPrefix, "node 2 has snapshot 2@2", violation);
    }

    [Fact]
    public void FlagsASnapshotCarryingAnotherMembershipThanTheCommittedOne()
    {
        LogEntry[] log = [E(1, 1, "a"), E(2, 1, "b"), E(3, 1, "c")];
        var checker = new RaftInvariantChecker(4); // voters 1..4 from the start; the snapshot claims 1..3
        foreach (var e in log[..2]) checker.OnApplied(N(1), e);
        var violation = checker.Check([View(Node(1, 1, 3, log)), new RaftNodeView(N(2), Compacted(2, 1, 3, 2, 1, log[2..]), log[2..], 2, 1)]);
        AssertViolates(RaftInvariant.Snapshot, "snapshot 2 carries membership", violation);
    }

    [Fact]
    public void FlagsSnapshotsThatDifferAtOneIndex()
    {
        var checker = new RaftInvariantChecker(3);
        checker.OnApplied(N(1), E(1, 1, "a"));
        checker.OnApplied(N(1), E(2, 1, "b"));
        checker.OnSnapshot(N(1), Meta(2, 1), [1, 2, 3], installed: false);
        checker.OnSnapshot(N(2), Meta(2, 1), [1, 2, 3], installed: true);
        Assert.Null(checker.Check([]));
        checker.OnSnapshot(N(3), Meta(2, 1), [1, 2, 4], installed: true);
        AssertViolates(RaftInvariant.StateMachineSafety, "node 3 has snapshot 2@1 unlike node 1's", checker.Check([]));
    }

    [Fact]
    public void FlagsAnInstalledSnapshotBehindTheAppliedState()
    {
        var checker = new RaftInvariantChecker(3);
        foreach (var e in new[] { E(1, 1, "a"), E(2, 1, "b"), E(3, 1, "c") }) checker.OnApplied(N(1), e);
        checker.OnSnapshot(N(1), Meta(2, 1), [1], installed: true);
        AssertViolates(RaftInvariant.ApplyOrder, "installed snapshot 2", checker.Check([]));
    }

    [Fact]
    public void FlagsAppliesThatSkipPastARestoredSnapshot()
    {
        var checker = new RaftInvariantChecker(3);
        checker.OnRestart(N(1), restoredIndex: 5);
        checker.OnApplied(N(1), E(7, 1, "x"));
        AssertViolates(RaftInvariant.ApplyOrder, "applied index 7 after 5", checker.Check([]));
    }

    [Fact]
    public void FlagsAPersistedSnapshotThatMovesBack()
    {
        var checker = new RaftInvariantChecker(3);
        Assert.Null(checker.Check([new RaftNodeView(N(1), null, [], 5, 1)]));
        AssertViolates(RaftInvariant.PersistedSnapshot, "moved back from 5 to 3", checker.Check([new RaftNodeView(N(1), null, [], 3, 1)]));
    }

    [Fact]
    public void DurabilityCountsEntriesCoveredBySnapshots()
    {
        LogEntry[] log = [E(1, 1, "a"), E(2, 1, "b")];
        var leader = Node(1, 1, 2, log);
        Assert.Null(new RaftInvariantChecker(3).Check([
            new RaftNodeView(N(1), leader, log), new RaftNodeView(N(2), null, [], 2, 1), new RaftNodeView(N(3), null, [])]));
        // A snapshot that stops short of the entry, with nothing after it on disk, holds no copy.
        AssertViolates(RaftInvariant.Durability, "persisted on only 1 nodes", new RaftInvariantChecker(3).Check([
            new RaftNodeView(N(1), leader, log), new RaftNodeView(N(2), null, [], 1, 1), new RaftNodeView(N(3), null, [])]));
    }
}
