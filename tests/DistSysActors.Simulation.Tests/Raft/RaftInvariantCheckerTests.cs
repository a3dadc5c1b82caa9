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
        Assert.Contains("election safety", violation);
    }

    [Fact]
    public void FlagsEntriesThatDifferAtSameIndexAndTerm()
    {
        var checker = new RaftInvariantChecker(3);
        var violation = checker.Check([View(Node(1, 2, 0, [E(1, 1, "a"), E(2, 2, "b")])), View(Node(2, 2, 0, [E(1, 1, "a"), E(2, 2, "X")]))]);
        Assert.Contains("log matching", violation);
    }

    [Fact]
    public void FlagsDifferentPrefixesBehindSameIndexAndTerm()
    {
        var checker = new RaftInvariantChecker(3);
        var violation = checker.Check([View(Node(1, 3, 0, [E(1, 1, "a"), E(2, 3, "b")])), View(Node(2, 3, 0, [E(1, 2, "a"), E(2, 3, "b")]))]);
        Assert.Contains("log matching", violation);
    }

    [Fact]
    public void FlagsLeaderMissingEntryCommittedInEarlierTerm()
    {
        var checker = new RaftInvariantChecker(3);
        LogEntry[] committed = [E(1, 1, "a")];
        Assert.Null(checker.Check([View(Node(1, 1, 1, committed)), View(Node(2, 1, 1, committed))]));
        var violation = checker.Check([View(Node(1, 1, 1, committed)), View(Node(2, 1, 1, committed)), View(Leader(3, 5, []))]);
        Assert.Contains("leader completeness", violation);
    }

    [Fact]
    public void FlagsCommittedEntryThatChanged()
    {
        var checker = new RaftInvariantChecker(3);
        Assert.Null(checker.Check([View(Node(1, 1, 1, [E(1, 1, "a")])), View(Node(2, 1, 1, [E(1, 1, "a")]))]));
        var violation = checker.Check([View(Node(3, 2, 1, [E(1, 2, "z")]))]);
        Assert.NotNull(violation);
    }

    [Fact]
    public void FlagsDifferentCommandsAppliedAtOneIndex()
    {
        var checker = new RaftInvariantChecker(3);
        checker.OnApplied(N(1), E(1, 1, "a"));
        checker.OnApplied(N(2), E(1, 1, "b"));
        Assert.Contains("state-machine safety", checker.Check([]));
    }

    [Fact]
    public void FlagsAppliesOutOfOrder()
    {
        var checker = new RaftInvariantChecker(3);
        checker.OnApplied(N(1), E(1, 1, "a"));
        checker.OnApplied(N(1), E(3, 1, "c"));
        Assert.NotNull(checker.Check([]));
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
        Assert.Contains("durability", checker.Check(views));
    }
}
