using DistSysActors.Core.Quorum;

namespace DistSysActors.Core.Tests.Quorum;

public sealed class MajorityQuorumTests
{
    private static MajorityQuorum Q(int size) => new(Enumerable.Range(1, size).Select(i => new NodeId(i)));

    private static HashSet<NodeId> Set(string ids) =>
        ids.Length == 0 ? [] : ids.Split(',').Select(s => new NodeId(int.Parse(s))).ToHashSet();

    [Theory]
    [InlineData(1, "1", "", VoteResult.Won)]
    [InlineData(1, "", "1", VoteResult.Lost)]
    [InlineData(1, "", "", VoteResult.Pending)]
    [InlineData(3, "1", "", VoteResult.Pending)]
    [InlineData(3, "1,2", "", VoteResult.Won)]
    [InlineData(3, "1", "2", VoteResult.Pending)]
    [InlineData(3, "1", "2,3", VoteResult.Lost)]
    [InlineData(4, "1,2", "3", VoteResult.Pending)]
    [InlineData(4, "1,2", "3,4", VoteResult.Lost)]
    [InlineData(4, "1,2,3", "4", VoteResult.Won)]
    [InlineData(5, "1,2", "3,4", VoteResult.Pending)]
    [InlineData(5, "1,2", "3,4,5", VoteResult.Lost)]
    [InlineData(5, "1,2,3", "4,5", VoteResult.Won)]
    [InlineData(3, "7,8,9", "", VoteResult.Pending)] // non-voters do not count
    public void VoteResultFromYesAndNoSets(int size, string yes, string no, VoteResult expected)
    {
        Assert.Equal(expected, Q(size).Vote(Set(yes), Set(no)));
        var map = Set(yes).ToDictionary(n => n, _ => true);
        foreach (var n in Set(no)) map[n] = false;
        Assert.Equal(expected, Q(size).Vote(map));
    }

    [Theory]
    [InlineData(new long[] { 5 }, 5)]
    [InlineData(new long[] { 5, 3 }, 3)]
    [InlineData(new long[] { 5, 3, 1 }, 3)]
    [InlineData(new long[] { 1, 5, 3 }, 3)]
    [InlineData(new long[] { 9, 9, 0 }, 9)]
    [InlineData(new long[] { 9, 0, 0 }, 0)]
    [InlineData(new long[] { 4, 8, 2, 6 }, 4)]
    [InlineData(new long[] { 10, 20, 30, 40, 50 }, 30)]
    [InlineData(new long[] { 50, 50, 1, 1, 1 }, 1)]
    [InlineData(new long[] { 50, 50, 50, 1, 1 }, 50)]
    public void CommittedIndexIsLargestIndexAckedByMajority(long[] acked, long expected)
    {
        var q = Q(acked.Length);
        var map = q.Voters.Select((v, i) => (v, acked[i])).ToDictionary(p => p.v, p => p.Item2);
        Assert.Equal(expected, q.CommittedIndex(map));
        // Same rule stated directly: a majority acked at least the result, and not a majority acked more.
        Assert.True(acked.Count(a => a >= expected) >= q.Size);
        Assert.True(acked.Count(a => a > expected) < q.Size);
    }

    [Fact]
    public void CommittedIndexCountsMissingVotersAsZero()
    {
        var q = Q(3);
        Assert.Equal(0, q.CommittedIndex(new Dictionary<NodeId, long> { [new NodeId(1)] = 7 }));
        Assert.Equal(4, q.CommittedIndex(new Dictionary<NodeId, long> { [new NodeId(1)] = 7, [new NodeId(3)] = 4 }));
    }

    [Fact]
    public void CommittedIndexMatchesBruteForceOnRandomInputs()
    {
        var random = new DeterministicRandom(42);
        for (var trial = 0; trial < 500; trial++)
        {
            var size = random.NextInt(1, 10);
            var acked = Enumerable.Range(0, size).Select(_ => random.NextInt64(0, 20)).ToArray();
            var q = Q(size);
            var brute = Enumerable.Range(0, 21).Where(c => acked.Count(a => a >= c) >= q.Size).Max();
            Assert.True(brute == q.CommittedIndex(n => acked[n.Value - 1]), $"trial {trial} seed 42: [{string.Join(',', acked)}]");
        }
    }

    [Fact]
    public void VotersAreDistinctAndOrdered()
    {
        var q = new MajorityQuorum([new NodeId(3), new NodeId(1), new NodeId(3), new NodeId(2)]);
        Assert.Equal([new NodeId(1), new NodeId(2), new NodeId(3)], q.Voters.ToArray());
        Assert.Equal(2, q.Size);
        Assert.True(q.IsQuorum([new NodeId(3), new NodeId(1)]));
        Assert.False(q.IsQuorum([new NodeId(3), new NodeId(3), new NodeId(9)]));
        Assert.Throws<ArgumentException>(() => new MajorityQuorum([]));
    }
}
